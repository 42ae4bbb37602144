"""Drives `alloy lsp` with pytest-lsp, a client we did not write, as an editor would.

Run through `cargo test --test lsp_e2e` (which passes the binary in ALLOY_BIN), or directly:
`ALLOY_BIN=target/debug/alloy python3 -m pytest tests/lsp`.
"""

import asyncio
import os
import pathlib

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

ALLOY = os.environ.get("ALLOY_BIN", "alloy")

RW = """prometheus.remote_write "default" {
  endpoint {
    url = "http://localhost:9009/api/v1/push"
  }
}
"""

SCRAPE = """prometheus.scrape "app" {
  targets    = [{"__address__" = "localhost:8080"}]
  forward_to = [prometheus.remote_write.default.receiver]
}
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[ALLOY, "lsp", "--debounce-ms", "5"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


def write(dir: pathlib.Path, name: str, text: str) -> str:
    path = dir / name
    path.write_text(text)
    return path.as_uri()


def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1):
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id="alloy", version=version, text=text))
    )


def pos(text: str, needle: str, delta: int = 0) -> types.Position:
    """The position of `needle` in `text` (plus `delta` characters); ASCII texts only."""
    offset = text.index(needle) + delta
    before = text[:offset]
    return types.Position(line=before.count("\n"), character=offset - (before.rfind("\n") + 1))


async def diagnostics(client: LanguageClient, uri: str, predicate, timeout: float = 10.0):
    """Waits until the diagnostics published for `uri` satisfy `predicate`."""

    async def wait():
        while True:
            found = client.diagnostics.get(uri)
            if found is not None and predicate(found):
                return found
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(wait(), timeout)


def apply_edits(text: str, edits) -> str:
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def off(p):
        return starts[p.line] + p.character if p.line < len(starts) else len(text)

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: off(e.range.start)] + e.new_text + text[off(e.range.end) :]
    return text


@pytest.mark.asyncio
async def test_diagnostics_follow_edits(client: LanguageClient, tmp_path):
    text = 'prometheus.scrape "app" {\n  targets = []\n  forward_too = []\n}\n'
    uri = write(tmp_path, "main.alloy", text)
    open_doc(client, uri, text)
    found = await diagnostics(client, uri, lambda ds: len(ds) > 0)
    messages = sorted(d.message for d in found)
    assert any('unrecognized attribute name "forward_too"' in m and 'did you mean "forward_to"?' in m for m in messages), messages
    assert any('missing required attribute "forward_to"' in m for m in messages), messages
    bad = next(d for d in found if "forward_too" in d.message)
    assert bad.range.start == types.Position(line=2, character=2)
    assert bad.range.end == types.Position(line=2, character=13)
    assert bad.source == "alloy" and bad.severity == types.DiagnosticSeverity.Error

    # An incremental edit deleting the extra "o" fixes both.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=types.Position(line=2, character=12), end=types.Position(line=2, character=13)), text="")],
        )
    )
    await diagnostics(client, uri, lambda ds: len(ds) == 0)


def configure(client: LanguageClient, settings: dict):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))


@pytest.mark.asyncio
async def test_duplicate_and_cycle_related_information(client: LanguageClient, tmp_path):
    # A directory read as one configuration, as `alloy run DIR` reads it.
    configure(client, {"alloy": {"configGrouping": "directory"}})
    first = write(tmp_path, "a.alloy", RW)
    text = RW + """
prometheus.relabel "x" {
  forward_to = [prometheus.relabel.y.receiver]
}

prometheus.relabel "y" {
  forward_to = [prometheus.relabel.x.receiver]
}
"""
    uri = write(tmp_path, "b.alloy", text)
    open_doc(client, uri, text)
    found = await diagnostics(client, uri, lambda ds: len(ds) >= 2)
    dup = next(d for d in found if "already declared" in d.message)
    assert dup.range.start.line == 0
    [rel] = dup.related_information
    assert rel.location.uri == first and rel.location.range.start == types.Position(line=0, character=0)
    cycle = next(d for d in found if d.message.startswith("cycle detected"))
    assert "prometheus.relabel.x" in cycle.message and "prometheus.relabel.y" in cycle.message
    assert len(cycle.related_information) == 1
    assert "depends on" in cycle.related_information[0].message


@pytest.mark.asyncio
async def test_independent_configs_side_by_side_and_settings(client: LanguageClient, tmp_path):
    # config.alloy beside config-lb.alloy, both defining the same components: by default
    # (configGrouping "auto") they are separate configurations, so no "already declared".
    write(tmp_path, "config-lb.alloy", RW + SCRAPE)
    text = RW + SCRAPE
    uri = write(tmp_path, "config.alloy", text)
    open_doc(client, uri, text)
    await diagnostics(client, uri, lambda ds: len(ds) == 0)

    # The stability level is a setting: the debug exporter is experimental.
    text2 = 'otelcol.exporter.debug "d" { }\n'
    uri2 = write(tmp_path, "debug.alloy", text2)
    open_doc(client, uri2, text2)
    found = await diagnostics(client, uri2, lambda ds: len(ds) > 0)
    assert any("stability level" in d.message for d in found), [d.message for d in found]
    configure(client, {"stabilityLevel": "experimental"})
    await diagnostics(client, uri2, lambda ds: len(ds) == 0)

    # Forced to one configuration per directory, the duplicates are errors again.
    configure(client, {"configGrouping": "directory"})
    found = await diagnostics(client, uri, lambda ds: any("already declared" in d.message for d in ds))
    assert found


@pytest.mark.asyncio
async def test_completion_after_a_dot_in_a_broken_file(client: LanguageClient, tmp_path):
    text = 'otelcol.receiver.otlp "in" {\n  grpc { }\n  output {\n    traces = [otelcol.]\n  }\n}\n\notelcol.exporter.otlp "out" {\n  client {\n    endpoint = "x:4317"\n  }\n}\n'
    uri = write(tmp_path, "main.alloy", text)
    open_doc(client, uri, text)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=pos(text, "[otelcol.]", 9),
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.TriggerCharacter, trigger_character="."),
        )
    )
    labels = [i.label for i in result.items]
    assert labels == ["otelcol.exporter.otlp.out.input"], labels


@pytest.mark.asyncio
async def test_completion_filters_by_expected_type(client: LanguageClient, tmp_path):
    write(tmp_path, "rw.alloy", RW + '\nloki.write "logs" {\n  endpoint {\n    url = "http://loki"\n  }\n}\n')
    text = 'prometheus.scrape "app" {\n  targets    = []\n  forward_to = [\n}\n'
    uri = write(tmp_path, "main.alloy", text)
    open_doc(client, uri, text)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(text, "forward_to = [", 14))
    )
    labels = [i.label for i in result.items]
    assert labels == ["prometheus.remote_write.default.receiver"], labels

    # Argument names inside a body: required first, as snippets.
    text2 = 'prometheus.scrape "app" {\n  \n}\n'
    uri2 = write(tmp_path, "other.alloy", text2)
    open_doc(client, uri2, text2)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri2), position=types.Position(line=1, character=2))
    )
    items = sorted(result.items, key=lambda i: (i.sort_text, i.label))
    assert [i.label for i in items[:2]] == ["forward_to", "targets"]
    assert items[0].insert_text_format == types.InsertTextFormat.Snippet
    assert items[0].text_edit.new_text == "forward_to = [${1}]"

    # Component names by namespace.
    text3 = "otelcol.receiver.\n"
    uri3 = write(tmp_path, "third.alloy", text3)
    open_doc(client, uri3, text3)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri3), position=types.Position(line=0, character=17))
    )
    labels = [i.label for i in result.items]
    assert "otelcol.receiver.otlp" in labels and all(l.startswith("otelcol.receiver.") for l in labels), labels


@pytest.mark.asyncio
async def test_hover(client: LanguageClient, tmp_path):
    write(tmp_path, "rw.alloy", RW)
    uri = write(tmp_path, "main.alloy", SCRAPE)
    open_doc(client, uri, SCRAPE)
    h = await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(SCRAPE, "scrape")))
    assert "**prometheus.scrape**" in h.contents.value
    assert "`forward_to`: list(MetricsReceiver) (required)" in h.contents.value
    h = await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(SCRAPE, "receiver")))
    assert "prometheus.remote_write.default.receiver: MetricsReceiver" in h.contents.value
    assert "rw.alloy:1:1" in h.contents.value


@pytest.mark.asyncio
async def test_definition_references_rename(client: LanguageClient, tmp_path):
    rw_uri = write(tmp_path, "rw.alloy", RW)
    uri = write(tmp_path, "main.alloy", SCRAPE)
    open_doc(client, uri, SCRAPE)
    at = pos(SCRAPE, "default")
    d = await client.text_document_definition_async(types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at))
    assert d.uri == rw_uri and d.range.start == types.Position(line=0, character=0)

    refs = await client.text_document_references_async(
        types.ReferenceParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at, context=types.ReferenceContext(include_declaration=True))
    )
    assert sorted((r.uri, r.range.start.line) for r in refs) == sorted([(rw_uri, 0), (uri, 2)])

    # prepareRename shows what will change here: the label's part of the reference.
    prep = await client.text_document_prepare_rename_async(types.PrepareRenameParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(SCRAPE, "prometheus.remote_write")))
    assert prep.placeholder == "default"
    assert prep.range.start == pos(SCRAPE, "default") and prep.range.end == pos(SCRAPE, "default", 7)
    # Nothing to rename on an attribute name: an error before the user types a name.
    with pytest.raises(Exception, match="no component label to rename"):
        await client.text_document_prepare_rename_async(types.PrepareRenameParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos(SCRAPE, "targets")))

    edit = await client.text_document_rename_async(types.RenameParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at, new_name="primary"))
    assert apply_edits(RW, edit.changes[rw_uri]).startswith('prometheus.remote_write "primary" {')
    assert "prometheus.remote_write.primary.receiver" in apply_edits(SCRAPE, edit.changes[uri])


@pytest.mark.asyncio
async def test_formatting(client: LanguageClient, tmp_path):
    text = 'logging {\nlevel = "info"\n  format="json"\n}\n\nprometheus.remote_write "x" {\nendpoint {\nurl = "http://a"\n}\n}\n'
    uri = write(tmp_path, "main.alloy", text)
    open_doc(client, uri, text)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=uri), options=types.FormattingOptions(tab_size=4, insert_spaces=False))
    )
    formatted = apply_edits(text, edits)
    assert formatted == 'logging {\n\tlevel  = "info"\n\tformat = "json"\n}\n\nprometheus.remote_write "x" {\n\tendpoint {\n\t\turl = "http://a"\n\t}\n}\n'
    # Range formatting touches only the lines asked for.
    edits = await client.text_document_range_formatting_async(
        types.DocumentRangeFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=3, character=1)),
            options=types.FormattingOptions(tab_size=4, insert_spaces=False),
        )
    )
    assert apply_edits(text, edits) == 'logging {\n\tlevel  = "info"\n\tformat = "json"\n}\n\nprometheus.remote_write "x" {\nendpoint {\nurl = "http://a"\n}\n}\n'

    # Whatever the original ending, the buffer ends as `alloy fmt` ends a file: one newline.
    for ending in ["", "\n\n\n"]:
        text2 = 'logging {\nlevel="info"\n}' + ending
        uri2 = write(tmp_path, "end%d.alloy" % len(ending), text2)
        open_doc(client, uri2, text2)
        edits = await client.text_document_formatting_async(
            types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=uri2), options=types.FormattingOptions(tab_size=4, insert_spaces=False))
        )
        assert apply_edits(text2, edits) == 'logging {\n\tlevel = "info"\n}\n', repr(ending)


@pytest.mark.asyncio
async def test_symbols_folding_tokens_and_actions(client: LanguageClient, tmp_path):
    text = 'prometheus.scrape "app" {\n  forward_to = []\n  targets = [\n    {"__address__" = "a"},\n  ]\n  job_name = env("JOB")\n}\n'
    uri = write(tmp_path, "main.alloy", text)
    open_doc(client, uri, text)
    doc = types.TextDocumentIdentifier(uri=uri)
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc))
    assert [s.name for s in symbols] == ["prometheus.scrape.app"]
    assert [c.name for c in symbols[0].children] == ["forward_to", "targets", "job_name"]

    ws = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="scrape"))
    assert [s.name for s in ws] == ["prometheus.scrape.app"]

    folds = await client.text_document_folding_range_async(types.FoldingRangeParams(text_document=doc))
    assert sorted((f.start_line, f.end_line) for f in folds) == [(0, 5), (2, 3)]

    tokens = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(text_document=doc))
    assert len(tokens.data) % 5 == 0 and len(tokens.data) >= 5 * 8

    await diagnostics(client, uri, lambda ds: any("deprecated" in d.message for d in ds))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(text_document=doc, range=types.Range(start=pos(text, "env"), end=pos(text, "env")), context=types.CodeActionContext(diagnostics=[]))
    )
    [action] = actions
    assert action.title == 'Replace with "sys.env"'
    assert 'job_name = sys.env("JOB")' in apply_edits(text, action.edit.changes[uri])


@pytest.mark.asyncio
async def test_survives_garbage(client: LanguageClient, tmp_path):
    text = '}}}{{{ = = "\n\t`raw ŝ٣ prometheus.scrape "x" { forward_to = [prometheus.'
    uri = write(tmp_path, "main.alloy", text)
    open_doc(client, uri, text)
    await diagnostics(client, uri, lambda ds: len(ds) > 0)
    doc = types.TextDocumentIdentifier(uri=uri)
    for line in range(3):
        for character in range(0, 80, 7):
            p = types.Position(line=line, character=character)
            await client.text_document_hover_async(types.HoverParams(text_document=doc, position=p))
            await client.text_document_completion_async(types.CompletionParams(text_document=doc, position=p))
    # Still alive and answering.
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc))
    assert symbols is not None
