"""AppTest: the Documents page scores through a served model (the openai backend on the real vLLM server started
by the session fixture), with Min-K%++ replaced by its approximation, which the table names as such."""

from apptest_helpers import button, open_page


def test_documents_page_scores_through_a_vllm_server(vllm_server):
    at = open_page("documents", model=f"openai:{vllm_server}#default")
    at.run()
    assert not at.exception
    at.text_area[0].input("The weather was cold and wet, so the children stayed inside and read books.")
    at.run()
    button(at, "Score").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert {"loss", "zlib", "lowercase", "mink", "minkpp_approx"} <= set(table.columns)
    assert "minkpp" not in table.columns and len(table) == 1


def test_a_chat_api_is_refused_for_likelihood_scores_with_the_reason(vllm_server):
    at = open_page("documents", model=f"chat:{vllm_server}#default")
    at.run()
    at.text_area[0].input("The weather was cold and wet, so the children stayed inside and read books.")
    at.run()
    button(at, "Score").click()
    at.run()
    errors = " ".join(e.value for e in at.error)
    assert "chat backend" in errors and "log-probability" in errors
