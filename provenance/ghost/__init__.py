"""Ghost sentences: unique random passphrases an owner plants in their texts and later tests a model for.

The four steps (design.md, "Calibration and verdicts"):

1. **Generate** passphrases of natural words, drawn with ``secrets`` from an EFF wordlist (shipped in ``xkcdpass``),
   with optional custom elements (lead-in, capitalisation, user tag, end punctuation). ``GhostGenerator`` holds the
   settings; ``new_entries`` draws N identifiers never already in a registry.
2. **Register** them in a JSON registry with their settings, creation time (UTC), a SHA-256 commitment
   ``sha256(salt || identifier)`` and a date commitment ``sha256(salt || commitment || created)``. Publishing the commitments now lets the owner prove later (``verify_registry``,
   ``verify_against_published``) that an identifier existed before a model was released.
3. **Embed** them into .txt, .md, .html and .docx files at the start, the end or random sentence boundaries, with a
   manifest of every placement. For .txt, .md and .html, ``remove_placements`` gives back the original text exactly.
4. **Detect**: (a) the perplexity test ranks each identifier's NLL among M fresh draws from the same generator scored
   the same way; p = (1 + #{null NLL <= observed}) / (M + 1) is exactly uniform when the model never saw the
   identifier, exposure = log2(M + 1) - log2(rank) in bits; Fisher's method combines identifiers. (b) the last-k words
   test prompts with all but the last k words and checks whether greedy decoding reproduces them exactly.

Why six words by default: an EFF long-list word carries log2(7772) = 12.9 bits, so six words give 77.5 bits, the
EFF's own recommendation for a passphrase. At that entropy no one guesses an identifier or writes it by accident
(the chance that any of 10^12 published sentences equals a given identifier is below 10^-11), yet it is only about
12-20 tokens long, so a model can memorise it from a few repetitions, M = 1000 null draws cost about 15k tokens to
score, and the last-3-words test still leaves three words of prompt. Fewer words weaken uniqueness quickly (four words:
51.7 bits); more words add tokens the model must memorise without making the null any more exact.

Modules, one per step: ``generator`` (wordlists, ``GhostGenerator``, ``generate_identifiers``), ``registry``
(``GhostEntry``, ``Registry``, commitments, JSON reading and writing, verification), ``embedding`` (placements,
``embed_text`` / ``embed_html`` / ``embed_docx`` / ``embed_bytes`` / ``embed_uploads`` / ``embed_files``, manifests,
``plant_corpus``), ``detection`` (identifier NLL, null draws and their cache, p-values, exposure, Fisher's method,
the last-k words test, ``detect``), and ``planting`` (the insert-then-detect experiment). This package re-exports
what callers use, so ``from provenance import ghost; ghost.detect(...)`` works.
"""

from __future__ import annotations

from .detection import (
    DEFAULT_ALPHA,
    DEFAULT_LAST_K,
    DEFAULT_NULL,
    GhostDetection,
    NullCache,
    check_reference,
    detect,
    empirical_p_value,
    exposure_bits,
    fisher_combined,
    identifier_nll,
    last_k_prompts,
    last_k_test,
    null_draws,
    null_nll,
    registered_on,
    span_nll,
    verdict_for,
)
from .embedding import (
    DEFAULT_WORDS_PER_PLACEMENT,
    EMBED_SUFFIXES,
    MANIFEST_FORMAT,
    POSITIONS,
    MarkedDocuments,
    Placement,
    decode_utf8_exact,
    document_words,
    embed_bytes,
    embed_docx,
    embed_docx_bytes,
    embed_files,
    embed_html,
    embed_text,
    embed_uploads,
    encode_utf8_exact,
    placements_for_length,
    placements_from_manifest,
    plant_corpus,
    read_utf8_exact,
    remove_placements,
    save_manifest,
    sentence_boundaries,
    write_utf8_exact,
)
from .generator import (
    CASES,
    DEFAULT_WORDS,
    END_MARKS,
    WORDLISTS,
    GhostError,
    GhostGenerator,
    generate_identifiers,
    load_wordlist,
)
from .registry import (
    FORMAT_VERSION,
    REGISTRY_FORMAT,
    SALT_BYTES,
    GhostEntry,
    Registry,
    RegistryError,
    commitment,
    entries_from_lines,
    date_commitment,
    load_published,
    load_registry,
    make_entry,
    new_entries,
    public_commitments,
    registry_from_dict,
    save_commitments,
    save_registry,
    undated_entries,
    verify_against_published,
    verify_registry,
)

__all__ = [
    # generator
    "CASES", "DEFAULT_WORDS", "END_MARKS", "WORDLISTS", "GhostError", "GhostGenerator", "generate_identifiers",
    "load_wordlist",
    # registry
    "FORMAT_VERSION", "REGISTRY_FORMAT", "SALT_BYTES", "GhostEntry", "Registry", "RegistryError", "commitment",
    "date_commitment", "entries_from_lines", "load_published", "load_registry", "make_entry", "new_entries",
    "public_commitments", "registry_from_dict", "save_commitments", "save_registry", "undated_entries",
    "verify_against_published", "verify_registry",
    # embedding
    "DEFAULT_WORDS_PER_PLACEMENT", "EMBED_SUFFIXES", "MANIFEST_FORMAT", "POSITIONS", "MarkedDocuments", "Placement",
    "decode_utf8_exact", "document_words", "embed_bytes", "embed_docx", "embed_docx_bytes", "embed_files",
    "embed_html", "embed_text", "embed_uploads", "encode_utf8_exact", "placements_for_length",
    "placements_from_manifest", "plant_corpus", "read_utf8_exact", "remove_placements", "save_manifest",
    "sentence_boundaries", "write_utf8_exact",
    # detection
    "DEFAULT_ALPHA", "DEFAULT_LAST_K", "DEFAULT_NULL", "GhostDetection", "NullCache", "check_reference", "detect",
    "empirical_p_value",
    "exposure_bits", "fisher_combined", "identifier_nll", "last_k_prompts", "last_k_test",
    "null_draws", "null_nll", "registered_on", "span_nll", "verdict_for",
]
