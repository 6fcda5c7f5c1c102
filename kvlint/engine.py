"""Runs a scan: files -> documents -> sources (which run their rules) -> findings.

Per document: every source that applies parses it at most once and runs its enabled rules; then
per-file ignores and inline suppressions are applied. Files are scanned in worker processes when
there are many, and results are cached by content (see `kvlint.cache`).
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import multiprocessing
import os
import tokenize
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kvlint import filedeps, suppress
from kvlint.config import Config, ConfigError
from kvlint.document import Document
from kvlint.globmatch import GitIgnore
from kvlint.model import Finding, Notification, ScanResult, Severity
from kvlint.registry import Registry, SelectionError, source_classes
from kvlint.report import Reporter
from kvlint.rule import RuleSpec
from kvlint.safeio import FolderReader, TooLarge, describe, read_regular
from kvlint.secretspans import add_positional_secrets
from kvlint.sources.base import Source
from kvlint.sources.text import BINARY_VIEW, TextSource, binary_document

# Worker processes pay for their start (fork, a pipeline per process, results sent back) only
# past this much work; measured on 2 cores (docs/ARCHITECTURE.md, Workers).
PARALLEL_MIN_FILES = 48
PARALLEL_MIN_BYTES = 1 << 20
READ_LIMIT_FACTOR = 4


@dataclass
class FileOutcome:
    findings: list[Finding] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # source name -> facts for finalize
    depends: list[list[str]] = field(default_factory=list)  # other files read (kvlint.filedeps)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "findings": [f.to_dict() for f in self.findings],
            "notifications": [n.to_dict() for n in self.notifications],
            "facts": self.facts,
        }
        if self.depends:
            data["depends"] = self.depends
        return data

    def is_empty(self) -> bool:
        return not (self.findings or self.notifications or self.facts or self.depends)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> FileOutcome:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileOutcome:
        return cls(
            [Finding.from_dict(f) for f in data["findings"]],
            [Notification.from_dict(n) for n in data["notifications"]],
            data.get("facts", {}),
            data.get("depends", []),
        )


def decode(data: bytes, path: str = "") -> tuple[str, str | None]:
    """Text of a file and, when it was not UTF-8, a note saying how it was read."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        position = exc.start
    if path.endswith((".py", ".pyw")):
        # A PEP 263 coding declaration says how Python itself reads the file.
        try:
            encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
            return data.decode(encoding), None
        except (SyntaxError, LookupError, UnicodeDecodeError):
            pass
    return data.decode("latin-1"), f"not valid UTF-8 (byte {position}); scanned as Latin-1"


class Pipeline:
    """The enabled rules, grouped by source, ready to run on documents."""

    def __init__(self, config: Config, registry: Registry, specs: Sequence[RuleSpec]) -> None:
        self.config = config
        self.registry = registry
        self.specs = list(specs)
        # Fingerprints cost a KDF per distinct secret: the CLI turns them off when no output
        # (JSON, SARIF, baseline) carries them.
        self.fingerprints = True
        # Set by the CLI, whose process ends soon after finalize: what finalize leaves alive (the
        # vault model and the findings: some 670,000 objects on the generated 20,000-file monorepo)
        # is frozen out of later collections instead of walked by the next one (0.1-0.15 s there).
        # Frozen objects are still freed by reference counting; only a cycle among them would stay.
        self.freeze_after_finalize = False
        self._maskers: dict[bool, Pipeline] = {}
        self.severity_overrides = self._severity_overrides()
        self.ignores = self._per_file_ignores()
        options = self._options()
        self.sources: list[Source] = []
        for name, source_cls in sorted(source_classes().items()):
            source_specs = [s for s in self.specs if s.source == name]
            if not source_specs:
                continue
            rules = [s.impl(options.get(s.id)) for s in source_specs if isinstance(s.impl, type)]
            self.sources.append(source_cls(rules, source_specs, config, registry))

    @classmethod
    def build(cls, config: Config, registry: Registry) -> Pipeline:
        try:
            specs = registry.select(config.select, [*config.ignore, *config.extend_ignore])
        except SelectionError as exc:
            raise ConfigError(f"select/ignore: {exc}") from None
        return cls(config, registry, specs)

    def _lookup(self, key: str, token: str) -> list[RuleSpec]:
        try:
            return self.registry.matching(token)
        except SelectionError as exc:
            raise ConfigError(f"{key}: {exc}") from None

    def _severity_overrides(self) -> dict[str, Severity]:
        overrides = {}
        for token, level in self.config.severity.items():
            for spec in self._lookup("severity", token):
                overrides[spec.id] = Severity(level)
        return overrides

    def _options(self) -> dict[str, dict[str, Any]]:
        options: dict[str, dict[str, Any]] = {}
        for token, values in self.config.options.items():
            spec = self.registry.lookup(token)
            if spec is None:
                raise ConfigError(f"options: {token!r} is not a rule id or name")
            for key, value in values.items():
                if key not in spec.options:
                    known = ", ".join(sorted(spec.options)) or "none"
                    raise ConfigError(f"options.{token}: unknown option {key!r} (known: {known})")
                default = spec.options[key]
                if default is not None and not isinstance(value, type(default)) and not (
                    isinstance(default, float) and isinstance(value, int)
                ):
                    raise ConfigError(
                        f"options.{token}.{key}: expected {type(default).__name__}, got {type(value).__name__}"
                    )
            options[spec.id] = dict(values)
        return options

    def _per_file_ignores(self) -> list[tuple[GitIgnore, set[str]]]:
        table = []
        for pattern, tokens in self.config.per_file_ignores.items():
            ids = {s.id for token in tokens for s in self._lookup("per-file-ignores", token)}
            table.append((GitIgnore([pattern]), ids))
        return table

    def ignored_for(self, path: str) -> set[str]:
        ids: set[str] = set()
        for spec, rule_ids in self.ignores:
            if spec.match_file(path):
                ids |= rule_ids
        return ids

    def reporter(self, path: str, text: str) -> Reporter:
        return Reporter(path, text, severity_overrides=self.severity_overrides, fingerprints=self.fingerprints)

    def _mask_rules(self, everything: bool) -> Pipeline:
        """The code rules whose secrets the document's masker must know besides the selected
        ones: the rules not selected (or, for a file first opened in finalize, all of them).
        Catalogue detectors are not among them: the masker runs the whole catalogue itself."""
        if everything not in self._maskers:
            chosen = {s.id for s in self.specs}
            specs = [s for s in self.registry.specs
                     if s.source != "text" and (everything or s.id not in chosen)]
            masking = self._maskers[everything] = Pipeline(self.config, self.registry, specs)
            for source in masking.sources:
                source.facts_wanted = False  # mask_document keeps no facts
        return self._maskers[everything]

    def mask_document(self, doc: Document, reporter: Reporter, *, everything: bool = False) -> None:
        """Complete the document's masker with every secret anything in kvlint recognises in it:
        every detector (built-in or the user's, enabled or not, public examples included), the
        values secret by position (`kvlint.secretspans`), and what the unselected rules would
        report. Selection decides what is reported, never what is masked."""
        masker = reporter.masker
        catalogue = getattr(self.registry, "catalogue", None)
        if catalogue is not None:
            for match in catalogue.scan(doc.text, path=doc.path, include_public=True):
                masker.add((match.line, match.col, match.end_line, match.end_col), match.secret)
        if doc.views.get(BINARY_VIEW):
            return  # a binary is judged by the catalogue alone, and masked by it
        add_positional_secrets(doc, masker)
        collector = Reporter(doc.path, doc.text, fingerprints=False)
        collector.share_masker(masker)
        fresh = Document(doc.path, doc.text)  # views hold parse trees tied to the first run's rules
        for source in self._mask_rules(everything).sources:
            if not source.reports_in_run:
                continue
            try:
                if source.applies(fresh):
                    source.run(fresh, collector)
            except Exception:  # the selected run reports problems; this only masks
                continue

    def scan_document(self, doc: Document) -> FileOutcome:
        outcome = FileOutcome()
        reporter = self.reporter(doc.path, doc.text)
        binary = bool(doc.views.get(BINARY_VIEW))
        for source in self.sources:
            if (binary and not isinstance(source, TextSource)) or not source.applies(doc):
                continue  # binaries: only the catalogue's prefix and checksum detectors
            try:
                facts = source.run(doc, reporter)
            except RecursionError:
                reporter.notify("warning", f"{source.name}: structure nested too deeply to analyse")
                continue
            except Exception as exc:  # a rule bug must not end the scan; say where it happened
                reporter.notify("error", f"internal error in the {source.name} source: {type(exc).__name__}")
                continue
            if facts is not None:
                outcome.facts[source.name] = facts
        if reporter.has_findings:  # only a document with findings is ever shown
            self.mask_document(doc, reporter)
        outcome.findings, notes = self.postprocess(reporter.findings(), doc.path, doc.text,
                                                   reporter.masker.masked_text if reporter.has_findings else None)
        outcome.notifications.extend(reporter.notifications + notes)
        return outcome

    def postprocess(self, findings: list[Finding], path: str, text: str, masked_text: str | None = None
                    ) -> tuple[list[Finding], list[Notification]]:
        """Per-file ignores, then inline suppressions (which may report problems of their own).
        Suppression reasons are read from the masked text: a reason is shown, a secret never."""
        ignored = self.ignored_for(path)
        if ignored:
            findings = [f for f in findings if f.rule_id not in ignored]
        if self.config.inline_suppressions and findings:
            return suppress.apply(findings, text, path, masked_text=masked_text)
        return findings, []

    def finalize(self, all_facts: list[tuple[str, dict[str, Any]]], texts: Mapping[str, Path | str]) -> FileOutcome:
        with _collector_paused(freeze=self.freeze_after_finalize):
            return self._finalize_files(all_facts, texts)

    def _finalize_files(self, all_facts: list[tuple[str, dict[str, Any]]], texts: Mapping[str, Path | str]) -> FileOutcome:
        outcome = FileOutcome()
        reporters: dict[str, Reporter] = {}

        def open_reporter(path: str) -> Reporter:
            if path not in reporters:
                text = ""
                source = texts.get(path)
                if isinstance(source, str):  # an in-memory document (scan_text)
                    text = source
                elif source is not None:
                    try:
                        text = decode(read_regular(source, READ_LIMIT_FACTOR * self.config.max_file_size), path)[0]
                    except OSError:
                        text = ""
                reporters[path] = self.reporter(path, text)
            return reporters[path]

        for source in self.sources:
            facts = [(path, f[source.name]) for path, f in all_facts if source.name in f]
            if facts:
                source.finalize(facts, open_reporter)
        for path, reporter in reporters.items():
            if reporter.has_findings:
                # The file's own scan masked it in a worker (or a past run): mask it again, alike.
                self.mask_document(Document(path, reporter.text), reporter, everything=True)
            findings, notes = self.postprocess(reporter.findings(), path, reporter.text,
                                               reporter.masker.masked_text if reporter.has_findings else None)
            outcome.findings.extend(findings)
            outcome.notifications.extend(reporter.notifications + notes)
        return outcome


@contextlib.contextmanager
def _collector_paused(freeze: bool = False) -> Any:
    """No cyclic collection during finalize: it builds one model of objects that live until it
    ends and makes no cycles (none on the generated 20,000-file monorepo), and the collector's
    passes over them and the scan's facts were a fifth of its time there."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


# Worker-process state: the pipeline is inherited through fork, never pickled; each worker (one
# thread) reads its files through its own FolderReader.
_WORKER_PIPELINE: Pipeline | None = None
_WORKER_READER = FolderReader()


def read_scanned(path: str | Path, display: str, pipeline: Pipeline,
                 reader: FolderReader | None = None) -> bytes | FileOutcome:
    """The bytes of a file to scan, read once and safely (no link followed, a regular file, within
    max-file-size: it may have been swapped for a FIFO, a link or a huge file since the walk), or
    the outcome that says why it could not be read. `reader`: the scan's, which opens each
    folder once (kvlint.safeio.FolderReader)."""
    # The walk applied max-file-size; this bound only stops a file that grew (or was swapped for
    # a huge one) since, with room for callers that pass files the walk did not size.
    limit = READ_LIMIT_FACTOR * pipeline.config.max_file_size
    try:
        return reader.read(os.fspath(path), limit) if reader is not None else read_regular(path, limit)
    except TooLarge:
        return FileOutcome(notifications=[Notification(
            "warning", f"skipped: grew over {limit} bytes since it was listed (max-file-size)", path=display)])
    except OSError as exc:
        return FileOutcome(notifications=[Notification("error", f"cannot read: {describe(exc)}", path=display)])


def scan_bytes(data: bytes, display: str, pipeline: Pipeline) -> FileOutcome:
    if b"\0" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # NUL bytes: a binary, or text with a stray NUL; its printable runs, with byte offsets
        return pipeline.scan_document(binary_document(display, data))
    text, note = decode(data, display)
    with filedeps.recording() as depends:
        outcome = pipeline.scan_document(Document(display, text))
    outcome.depends = depends
    if note:
        outcome.notifications.append(Notification("note", note, path=display))
    return outcome


def _worker_init(parent: int) -> None:
    """A worker dies with its parent: it ignores Ctrl-C and takes SIGTERM's default action
    (the parent handles both and terminates the pool), and on Linux it is killed when the
    parent dies, even by SIGKILL, so no worker is left behind scanning."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's pool shutdown still applies
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    _WORKER_READER.close()  # a folder the parent had open is the parent's


def scan_file(path: Path, display: str, pipeline: Pipeline) -> FileOutcome:
    data = read_scanned(path, display, pipeline)
    return data if isinstance(data, FileOutcome) else scan_bytes(data, display, pipeline)


# A work item: (absolute path, display path, whether to key it for the cache, the content key of
# its cached result when only its stat changed: the same bytes need no scan).
Item = tuple[str, str, bool, "str | None"]


def _scan_item(item: Item, pipeline: Pipeline, reader: FolderReader | None = None
               ) -> tuple[str | None, FileOutcome | None]:
    """(content key of the bytes read, or None when none were or no key was asked for; the
    outcome, or None when the bytes are those of the cached result). The file is read once:
    hashed and scanned from the same bytes."""
    path, display, keyed, expected = item
    data = read_scanned(path, display, pipeline, reader)
    if isinstance(data, FileOutcome):
        return None, data
    key = cache_key(data, display) if keyed else None
    if key is not None and key == expected:
        return key, None
    return key, scan_bytes(data, display, pipeline)


# An outcome as the cache stores it: (JSON of the outcome without facts, JSON of its facts or None).
Stored = tuple[str, "str | None"]


def _stored(outcome: FileOutcome) -> Stored:
    data = outcome.to_dict()
    facts = data.pop("facts", None)
    return json.dumps(data, separators=(",", ":")), json.dumps(facts, separators=(",", ":")) if facts else None


def _scan_in_worker(item: Item) -> tuple[str | None, Stored | dict[str, Any] | str | None]:
    """`_scan_item` sent back compactly: "" for an empty outcome (most files), else the texts the
    cache stores (when there is a cache: made once, here) or the outcome's dict (pickled:
    smaller and faster than JSON for facts-heavy outcomes); None when the bytes were the cached ones."""
    assert _WORKER_PIPELINE is not None
    key, outcome = _scan_item(item, _WORKER_PIPELINE, _WORKER_READER)
    if outcome is None:
        return key, None
    if outcome.is_empty():
        return key, ""
    return key, _stored(outcome) if item[2] else outcome.to_dict()


def _from_worker(payload: Stored | dict[str, Any] | str) -> tuple[FileOutcome, Stored | None]:
    if payload == "":
        return FileOutcome(), (_EMPTY_OUTCOME, None)
    if isinstance(payload, tuple):
        value, facts = payload
        outcome = FileOutcome.from_json(value)
        outcome.facts = json.loads(facts) if facts else {}
        return outcome, payload
    assert isinstance(payload, dict)
    return FileOutcome.from_dict(payload), None


def _worker_count(config: Config, files: int, size: int) -> int:
    """Worker processes only when the work pays for starting them (measured: docs/ARCHITECTURE.md)."""
    if config.jobs == 1 or files < PARALLEL_MIN_FILES or size < PARALLEL_MIN_BYTES:
        return 1
    return config.jobs or min(os.cpu_count() or 1, 8)


def _enough_bytes(todo: list[Item], stamps: dict[str, str | None]) -> int:
    """The bytes to scan, counted until PARALLEL_MIN_BYTES: from the walk's stat stamps (size
    first), a stat only for a file without one."""
    total = 0
    for path, display, _, _ in todo:
        stamp = stamps.get(display)
        if stamp:
            total += int(stamp.split(":", 1)[0])
        else:
            with contextlib.suppress(OSError):
                total += os.lstat(path).st_size
        if total >= PARALLEL_MIN_BYTES:
            break
    return total


def run_scan(files: Sequence[tuple[str | Path, str]], pipeline: Pipeline, cache: Any = None,
             progress: Callable[[int, int], None] | None = None,
             stamps: dict[str, str | None] | None = None) -> ScanResult:
    """Scan files (absolute path, display path) and return findings sorted by location.
    `stamps`: the files' stat stamps taken by the walk (else each file is stat'ed here).

    With a cache, a file whose stat is the one recorded with its result is not read at all; one
    whose stat changed is read, and if its bytes are those of the result, not scanned. A cached
    file's facts are decoded only when finalize cannot be taken from the cache either.
    `progress(done, total)` is called as files complete (cached ones count at once)."""
    global _WORKER_PIPELINE
    result = ScanResult(files_scanned=len(files))
    outcomes: dict[str, FileOutcome] = {}
    total = len(files)

    def advance() -> None:
        if progress is not None:
            progress(len(outcomes), total)

    todo: list[Item] = []
    states: dict[str, tuple[str, Stored]] = {}  # display -> (content key, stored outcome): what finalize saw
    stamps = dict(stamps or {})  # display -> stat stamp, taken before the file is read
    candidates: dict[str, tuple[FileOutcome, Stored]] = {}  # display -> cached outcome, if the bytes match
    lazy_facts: dict[str, str] = {}  # display -> a cached outcome's facts, not decoded yet
    paths = {display: path for path, display in files}
    if cache is not None:
        from kvlint.cache import stamp_of

        rows = cache.lookup([display for _, display in files])
        for path, display in files:
            stamp = stamps[display] if display in stamps else stamp_of(path)
            stamps[display] = stamp
            row = rows.get(display)
            cached = _cached_outcome(row.value) if row is not None else None
            if cached is not None and stamp is not None and row.stamp == stamp:
                outcomes[display] = cached  # unchanged: not read
                states[display] = (row.content, (row.value, row.facts))
                if row.facts:
                    lazy_facts[display] = row.facts
                continue
            if cached is not None:
                candidates[display] = (cached, (row.value, row.facts))
            todo.append((str(path), display, True, row.content if cached is not None else None))
    else:
        todo = [(str(path), display, False, None) for path, display in files]
    advance()

    def record(display: str, key: str | None, outcome: FileOutcome | None, stored: Stored | None = None) -> None:
        if outcome is None:  # the bytes of the cached result: it stands, under the new stat
            outcome, stored = candidates[display]
            if stored[1]:
                lazy_facts[display] = stored[1]
        outcomes[display] = outcome
        if cache is not None:
            stored = stored if stored is not None else _stored(outcome)
            states[display] = (key or "", stored)
            if key is not None:
                cache.put(display, stamps.get(display), key, *stored)
        advance()

    workers = 1
    if len(todo) >= PARALLEL_MIN_FILES and pipeline.config.jobs != 1:
        workers = _worker_count(pipeline.config, len(todo), _enough_bytes(todo, stamps))
    reader = FolderReader()  # this run's (a run on another thread has its own)
    if workers <= 1:
        try:
            for item in todo:
                key, outcome = _scan_item(item, pipeline, reader)
                record(item[1], key, outcome)
        finally:
            reader.close()
    else:
        _WORKER_PIPELINE = pipeline
        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(workers, initializer=_worker_init, initargs=(os.getpid(),)) as pool:
                for item, (key, payload) in zip(todo, pool.imap(_scan_in_worker, todo, chunksize=8), strict=True):
                    outcome, stored = (None, None) if payload is None else _from_worker(payload)
                    record(item[1], key, outcome, stored)
        finally:
            _WORKER_PIPELINE = None

    def all_facts() -> list[tuple[str, dict[str, Any]]]:
        """Every file's facts, the cached ones decoded now; a file whose cached facts are damaged
        is scanned again (a damaged cache is a miss, never lost facts)."""
        for display, text in lazy_facts.items():
            facts = _decode_facts(text)
            if facts is not None:
                outcomes[display].facts = facts
                continue
            key, outcome = _scan_item((str(paths[display]), display, True, None), pipeline)
            assert outcome is not None
            outcomes[display] = outcome
            if key is not None:
                cache.put(display, stamps.get(display), key, *_stored(outcome))
        lazy_facts.clear()
        return [(display, o.facts) for display, o in sorted(outcomes.items()) if o.facts]

    final = None
    if lazy_facts or any(o.facts for o in outcomes.values()):
        final = _finalize(pipeline, all_facts, files, cache, states)
    for display in sorted(outcomes):
        result.findings.extend(outcomes[display].findings)
        result.notifications.extend(outcomes[display].notifications)
    if final is not None:
        result.findings.extend(final.findings)
        result.notifications.extend(final.notifications)
    result.findings.sort(key=lambda f: (f.location.path or f.location.resource_id or "",
                                        f.location.start_line, f.location.start_col, f.rule_id))
    return result


def _decode_facts(text: str) -> dict[str, Any] | None:
    try:
        facts = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return facts if isinstance(facts, dict) else None


def _finalize(pipeline: Pipeline, all_facts: Callable[[], list[tuple[str, dict[str, Any]]]],
              files: Sequence[tuple[str | Path, str]], cache: Any, states: dict[str, tuple[str, Stored]]) -> FileOutcome:
    """`Pipeline.finalize`, cached: its outcome depends only on the configuration, every file's
    bytes and outcome (facts included), and the files it reads besides (recorded as `depends`).
    A warm run of an unchanged tree then neither joins the vault model again nor re-reads the
    files that cross-file findings are about. A snapshot given on the command line is not keyed:
    then finalize always runs."""
    key = None
    if cache is not None and not pipeline.config.extra.get("snapshot") and len(states) == len(files):
        import hashlib

        digest = hashlib.sha256()
        for display in sorted(states):
            content, (value, facts) = states[display]
            digest.update(f"{len(display)}:{display}:{content}:".encode("utf-8", "surrogateescape"))
            digest.update(hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest())
            digest.update(hashlib.sha256((facts or "").encode("utf-8", "surrogateescape")).digest())
        key = digest.hexdigest()
        value = cache.final(key)
        cached = _cached_outcome(value) if value is not None else None
        if cached is not None:
            return cached
    with filedeps.recording() as depends:
        outcome = pipeline.finalize(all_facts(), _OnDisk(files))
    outcome.depends = depends
    if key is not None:
        cache.put_final(key, outcome.to_json())
    return outcome


class _OnDisk(Mapping[str, Path]):
    """Display path -> the file's path on disk, for Pipeline.finalize (which tells a file on disk, a
    Path, from an in-memory text, a str): a Path is made only for a file it opens."""

    def __init__(self, files: Sequence[tuple[str | Path, str]]) -> None:
        self._paths = {display: path for path, display in files}

    def __getitem__(self, display: str) -> Path:
        return Path(self._paths[display])

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def cache_key(data: bytes, display: str) -> str:
    from kvlint.cache import Cache

    return Cache.key_of(data, display)


_EMPTY_OUTCOME = _stored(FileOutcome())[0]


def _cached_outcome(value: str) -> FileOutcome | None:
    """A cached outcome, or None when it is malformed (then the file is scanned and its row
    rewritten: a planted or damaged cache is never an internal error) or a file it read besides
    its own (a parameters file, a module) has changed."""
    from kvlint.cache import decode_entry

    if value == _EMPTY_OUTCOME:  # most files: nothing to decode
        return FileOutcome()
    data = decode_entry(value)
    if data is None:
        return None
    try:
        if not filedeps.unchanged(data.get("depends")):
            return None
        return FileOutcome.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def scan_text(pipeline: Pipeline, path: str, text: str) -> ScanResult:
    """Scan one in-memory document (used by rule examples and tests), including finalize."""
    outcome = pipeline.scan_document(Document(path, text))
    result = ScanResult(findings=outcome.findings, notifications=outcome.notifications, files_scanned=1)
    if outcome.facts:
        final = pipeline.finalize([(path, outcome.facts)], {path: text})
        result.findings.extend(final.findings)
        result.notifications.extend(final.notifications)
    return result
