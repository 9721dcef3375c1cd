"""End-to-end tests: `intent lsp` driven over stdio by a real LSP client (pytest-lsp).

Run by `tests/lsp_e2e.rs` (so by `cargo test`), which sets INTENT_BIN to the built binary.
"""

import asyncio
import os
import pathlib

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

INTENT = os.environ.get("INTENT_BIN", "intent")

CAPS = """package acme
use std.data.{pii}

capability invoices.read
capability documents.parse

context {
  subject: { residency: string, role: "analyst" | "auditor" }
}

/// Reads the ledger.
agent finance_agent { provides invoices.read  clearance pii  trust 0.9  region "eu-west-1" }
agent doc_parser { provides documents.parse  clearance pii  trust 0.8  region "us-east-1" }
human finance_lead { channel "slack:#fin"  sla 4h }
"""

ROUTES = """package acme
use std.data.{pii}

intent read_invoices {
  requires invoices.read
  handles  pii
}

route read_invoices {
  when confidence < 0.5 => escalate finance_lead because "unsure"
  otherwise => dispatch finance_agent
}

policy residency {
  forbid when data touches pii and subject.residency == "EU" and agent.region != "eu-west-1"
    because "GDPR"
}
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[INTENT, "lsp"]))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    lsp_client.server_info = await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities())
    )
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def mesh(tmp_path: pathlib.Path):
    (tmp_path / "caps.intent").write_text(CAPS)
    (tmp_path / "routes.intent").write_text(ROUTES)
    return tmp_path


def uri(path: pathlib.Path) -> str:
    return path.as_uri()


async def open_doc(client: LanguageClient, path: pathlib.Path, text: str | None = None):
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri(path),
                language_id="intent",
                version=1,
                text=path.read_text() if text is None else text,
            )
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


def pos_of(text: str, needle: str, nth: int = 0, plus: int = 0) -> types.Position:
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += plus
    line = text.count("\n", 0, at)
    col = at - (text.rfind("\n", 0, at) + 1)
    return types.Position(line=line, character=col)


async def test_initialize_announces_the_features(client: LanguageClient):
    result = client.server_info
    assert result.server_info.name == "intent-lsp"
    caps = result.capabilities
    assert caps.hover_provider and caps.definition_provider and caps.references_provider
    assert caps.rename_provider.prepare_provider
    assert "." in caps.completion_provider.trigger_characters
    assert caps.document_formatting_provider and caps.code_action_provider
    assert caps.code_lens_provider is not None and caps.semantic_tokens_provider is not None
    assert caps.document_symbol_provider and caps.workspace_symbol_provider
    assert caps.document_highlight_provider


async def test_diagnostics_after_an_edit(client: LanguageClient, mesh):
    routes = mesh / "routes.intent"
    await open_doc(client, routes)
    assert list(client.diagnostics[uri(routes)]) == []
    broken = ROUTES.replace("requires invoices.read", "requires invoices.raed")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri(routes), version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=broken)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    diags = client.diagnostics[uri(routes)]
    assert [d.code for d in diags] == ["E0101"]
    assert "did you mean `invoices.read`" in diags[0].message
    assert diags[0].range.start == pos_of(broken, "invoices.raed")


async def test_hover_shows_the_agent(client: LanguageClient, mesh):
    routes = mesh / "routes.intent"
    await open_doc(client, routes)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri(routes)),
            position=pos_of(ROUTES, "finance_agent", plus=2),
        )
    )
    assert hover is not None
    assert "agent finance_agent" in hover.contents.value
    assert "Reads the ledger." in hover.contents.value
    assert "clearance pii" in hover.contents.value


async def test_definition_and_references_cross_files(client: LanguageClient, mesh):
    routes, caps = mesh / "routes.intent", mesh / "caps.intent"
    await open_doc(client, routes)
    result = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri(routes)),
            position=pos_of(ROUTES, "finance_lead"),
        )
    )
    loc = result if isinstance(result, types.Location) else result[0]
    assert loc.uri == uri(caps)
    assert loc.range.start == pos_of(CAPS, "finance_lead")
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri(routes)),
            position=pos_of(ROUTES, "finance_agent"),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert sorted((r.uri, r.range.start.line) for r in refs) == sorted(
        [(uri(caps), pos_of(CAPS, "finance_agent").line), (uri(routes), pos_of(ROUTES, "finance_agent").line)]
    )


async def test_highlights_mark_the_declaration_and_the_uses_in_the_file(client: LanguageClient, mesh):
    routes = mesh / "routes.intent"
    await open_doc(client, routes)
    # The intent: declared here, named again by its route.
    got = await client.text_document_document_highlight_async(
        types.DocumentHighlightParams(
            text_document=types.TextDocumentIdentifier(uri=uri(routes)),
            position=pos_of(ROUTES, "read_invoices", nth=1),
        )
    )
    assert [(h.range.start, h.kind) for h in got] == [
        (pos_of(ROUTES, "read_invoices"), types.DocumentHighlightKind.Write),
        (pos_of(ROUTES, "read_invoices", nth=1), types.DocumentHighlightKind.Read),
    ]
    # An agent declared in the other file: only its use here.
    got = await client.text_document_document_highlight_async(
        types.DocumentHighlightParams(
            text_document=types.TextDocumentIdentifier(uri=uri(routes)),
            position=pos_of(ROUTES, "finance_agent"),
        )
    )
    assert [(h.range.start, h.range.end, h.kind) for h in got] == [
        (
            pos_of(ROUTES, "finance_agent"),
            pos_of(ROUTES, "finance_agent", plus=len("finance_agent")),
            types.DocumentHighlightKind.Read,
        )
    ]


async def test_rename_edits_both_files_and_refuses_keywords(client: LanguageClient, mesh):
    routes, caps = mesh / "routes.intent", mesh / "caps.intent"
    await open_doc(client, routes)
    edit = await client.text_document_rename_async(
        types.RenameParams(
            text_document=types.TextDocumentIdentifier(uri=uri(routes)),
            position=pos_of(ROUTES, "finance_agent"),
            new_name="ledger_agent",
        )
    )
    assert set(edit.changes) == {uri(routes), uri(caps)}
    assert all(e.new_text == "ledger_agent" for es in edit.changes.values() for e in es)
    with pytest.raises(Exception):
        await client.text_document_prepare_rename_async(
            types.PrepareRenameParams(
                text_document=types.TextDocumentIdentifier(uri=uri(routes)),
                position=pos_of(ROUTES, "route"),
            )
        )


async def test_completion_after_subject_dot(client: LanguageClient, mesh):
    routes = mesh / "routes.intent"
    text = ROUTES.replace("subject.residency ==", "subject. ==")
    await open_doc(client, routes, text)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri(routes)),
            position=pos_of(text, "subject.", plus=len("subject.")),
        )
    )
    items = result.items if isinstance(result, types.CompletionList) else result
    assert sorted(i.label for i in items) == ["residency", "role"]


async def test_formatting_returns_the_canonical_text(client: LanguageClient, mesh):
    caps = mesh / "caps.intent"
    messy = "package   acme\ncapability    invoices.read\n"
    await open_doc(client, caps, messy)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri(caps)),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert len(edits) == 1
    assert edits[0].new_text.startswith("package acme\n")
    assert "capability invoices.read\n" in edits[0].new_text


async def test_code_action_adds_the_missing_otherwise(client: LanguageClient, mesh):
    routes = mesh / "routes.intent"
    text = ROUTES.replace("  otherwise => dispatch finance_agent\n", "")
    await open_doc(client, routes, text)
    diags = client.diagnostics[uri(routes)]
    e0300 = [d for d in diags if d.code == "E0300"]
    assert e0300, diags
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri(routes)),
            range=e0300[0].range,
            context=types.CodeActionContext(diagnostics=e0300),
        )
    )
    titles = [a.title for a in actions]
    assert "add the missing `otherwise` arm" in titles
    fix = actions[titles.index("add the missing `otherwise` arm")]
    new = fix.edit.changes[uri(routes)][0].new_text
    assert "otherwise =>" in new


async def test_the_server_survives_bad_input(client: LanguageClient, mesh):
    junk = mesh / "junk.intent"
    await open_doc(client, junk, "\x00\x01\ufffd route { when => ((( \"" + "agent " * 50000)
    for position in [types.Position(line=0, character=5), types.Position(line=10**6, character=10**6)]:
        await client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri(junk)), position=position)
        )
        await client.text_document_completion_async(
            types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri(junk)), position=position)
        )
    unknown = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri(mesh / "nowhere.intent")),
            position=types.Position(line=0, character=0),
        )
    )
    assert unknown is None
    # Still answering real questions afterwards.
    routes = mesh / "routes.intent"
    await open_doc(client, routes)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri(routes)),
            position=pos_of(ROUTES, "finance_lead"),
        )
    )
    assert "human finance_lead" in hover.contents.value


WATCHED = []


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[INTENT, "lsp"]))
async def watching_client(lsp_client: LanguageClient):
    """A client that lets the server watch files (as VS Code does) and records what it asks."""

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams):
        WATCHED.extend(params.registrations)

    caps = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=True
            )
        )
    )
    await lsp_client.initialize_session(types.InitializeParams(capabilities=caps))
    yield
    await lsp_client.shutdown_session()


def on_disk(client: LanguageClient, path: pathlib.Path, change: types.FileChangeType):
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=uri(path), type=change)])
    )


async def test_a_file_created_or_deleted_on_disk_counts_at_once(watching_client: LanguageClient, mesh):
    client = watching_client
    for _ in range(50):
        if WATCHED:
            break
        await asyncio.sleep(0.1)
    [reg] = WATCHED
    assert reg.method == "workspace/didChangeWatchedFiles"
    assert [w["globPattern"] for w in reg.register_options["watchers"]] == ["**/*.intent"]

    routes = mesh / "routes.intent"
    text = ROUTES.replace("dispatch finance_agent", "dispatch ledger_agent")
    routes.write_text(text)
    await open_doc(client, routes)
    assert [d.code for d in client.diagnostics[uri(routes)]] == ["E0102"]

    # Another tool adds the agent in a file of its own: the open file's error goes.
    ledger = mesh / "agents" / "ledger.intent"
    ledger.parent.mkdir()
    ledger.write_text(
        'package acme\nuse std.data.{pii}\n\n'
        'agent ledger_agent { provides invoices.read  clearance pii  region "eu-west-1" }\n'
    )
    on_disk(client, ledger, types.FileChangeType.Created)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri(routes)]) == []

    # Changed on disk to another name, then deleted: the error comes back each time.
    ledger.write_text(ledger.read_text().replace("ledger_agent", "ledger_agent_v2"))
    on_disk(client, ledger, types.FileChangeType.Changed)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[uri(routes)]] == ["E0102"]
    ledger.write_text(ledger.read_text().replace("ledger_agent_v2", "ledger_agent"))
    on_disk(client, ledger, types.FileChangeType.Changed)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri(routes)]) == []
    ledger.unlink()
    on_disk(client, ledger, types.FileChangeType.Deleted)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[uri(routes)]] == ["E0102"]

    # A file created outside every mesh the server holds is not read.
    elsewhere = mesh.parent / f"{mesh.name}-other" / "x.intent"
    elsewhere.parent.mkdir()
    elsewhere.write_text("agent ledger_agent { provides invoices.read }\n")
    on_disk(client, elsewhere, types.FileChangeType.Created)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[uri(routes)]] == ["E0102"]
