"""The fast form decoder gives what the standard library gives, on any text."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from hypothesis import given
from hypothesis import strategies as st

from server.formdata import parse_form
from server.namespaces import sparql_prologue

# text built from the characters that matter to the decoder, and any others
PIECES = st.sampled_from(["%", "+", "&", "=", "\\", "\\x", "%4", "%zz", "%41", "%C3%A9", "%C3",
                          "%ff", "%5C", "%25", "%2B", "é", "ā", "\n", "x", "0", "\x00"])
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=30).map("".join)


@given(TEXT)
def test_parse_form_is_parse_qs(text: str) -> None:
    assert parse_form(text) == parse_qs(text, keep_blank_values=True)


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=200), max_size=4))
def test_parse_form_reads_what_urlencode_wrote(fields: dict[str, str]) -> None:
    text = urlencode(fields)
    assert parse_form(text) == parse_qs(text, keep_blank_values=True)


def test_a_query_with_its_prologue_round_trips() -> None:
    query = sparql_prologue() + 'SELECT * WHERE { ?s ?p "Ā \\\\ \\" 100%" } LIMIT 10'
    form = urlencode({"query": query, "default-graph-uri": ["a", "b"], "format": ""}, doseq=True)
    assert parse_form(form) == {"query": [query], "default-graph-uri": ["a", "b"], "format": [""]}
