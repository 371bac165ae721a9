"""Language models: the one model interface and what runs behind it. The ONLY folder that imports torch or
transformers (token_stats.py and interface.py import neither, so the rest of the code can name them freely).

- ``interface``: the LanguageModel protocol every caller uses, and the capabilities a backend declares;
- ``backends``: ``load_model(spec)``, the one reader of model specs, and one module per backend chosen by the spec's
  prefix: ``hf`` (exact, below), ``vllm`` (vLLM in-process), ``openai`` (a completions server), ``chat`` (a chat API);
- ``loading``: the exact ``hf`` backend (LoadedModel): the default model, local folders, .gguf files, hub ids;
- ``token_stats``: TokenStats, the per-token statistics of one text (numpy only), the settings and window plan;
- ``statistics``: one batched, windowed forward pass per text -> TokenStats (the memory-careful engine);
- ``cache``: TokenStats cached by model identity, settings and text hash (memory and disk);
- ``generation``: greedy and sampled continuations, without touching the shared tokenizer;
- ``training``: small models from a config, full and LoRA fine-tuning (the demo, benches and tests).
"""
