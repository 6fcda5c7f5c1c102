"""`az keyvault ...` commands (and secret handling around them) -> vault model and commands.

A vault created with `az keyvault create` is fully known: an omitted flag means the CLI's
default (no purge protection, public access). The permission model is the exception: az CLI
2.61.0 switched the default of `--enable-rbac-authorization` to true, and a script does not
say which CLI runs it, so an omitted flag is UNKNOWN. A vault only targeted by `set-policy`
or `secret set` is a reference: nothing about it is claimed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kvlint.vaultmodel.carriers import ScriptChunk
from kvlint.vaultmodel.model import (
    DEFAULT_SOFT_DELETE_RETENTION_DAYS,
    SECRET_ARGUMENT,
    SECRET_ECHO,
    SECRET_VALUE_READ,
    UNKNOWN,
    AccessPolicy,
    Command,
    DeclaredResult,
    LifetimeAction,
    Origin,
    RoleAssignment,
    RotationPolicy,
    SecretText,
    Span,
    Vault,
    VaultCertificate,
    VaultKey,
    VaultSecret,
    parse_datetime,
)
from kvlint.vaultmodel.shellscan import ShellScanner, SimpleCommand, Word, assignment

_BOOL_WORDS = {
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
    "on": True,
    "off": False,
}
_WRAPPERS = {"sudo", "time", "exec", "command", "nohup", "env", "xargs", "&", "call"}
_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "[[", "]]"}
_ECHO = {"echo", "printf", "write-host", "write-output", "print"}
_SILENT_BUILTINS = {
    "export",
    "local",
    "declare",
    "readonly",
    "set",
    "test",
    "[",
    "read",
    "unset",
    "typeset",
    ":",
}
# Stages that pass their input through to stdout: a secret piped into them still reaches the log.
_PASS_THROUGH = {
    "cat", "tee", "jq", "yq", "base64", "tr", "sed", "awk", "cut", "head", "tail", "grep",
    "sort", "uniq", "rev", "fold", "od", "xxd", "hexdump", "column", "less", "more", "xargs",
}  # fmt: skip
_PERMISSION_OPTIONS = {
    "--key-permissions": "keys",
    "--secret-permissions": "secrets",
    "--certificate-permissions": "certificates",
    "--storage-permissions": "storage",
}
_MASKING_MARKERS = ("::add-mask::", "issecret=true")


@dataclass
class _Arg:
    option: Word
    values: list[Word]


class _AzArgs:
    """Options of one az command: `--opt v1 v2`, `--flag`, `--opt=value`."""

    def __init__(self, words: list[Word]) -> None:
        self.positional: list[Word] = []
        self.options: dict[str, _Arg] = {}
        current: _Arg | None = None
        for word in words:
            text = word.text
            if (
                text.startswith("-")
                and len(text) > 1
                and not text[1:2].isdigit()
                and word.literal is not None
            ):
                name, eq, inline = text.partition("=")
                current = _Arg(word, [])
                self.options[name] = current
                if eq:
                    current.values.append(Word(word.start + len(name) + 1, word.end, inline, inline))
                    current = None
                continue
            if current is not None:
                current.values.append(word)
            else:
                self.positional.append(word)

    def get(self, *names: str) -> _Arg | None:
        for name in names:
            if name in self.options:
                return self.options[name]
        return None


class AzReader:
    """Interprets the commands of all script chunks of one file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.vaults: dict[str, Vault] = {}
        self.commands: list[Command] = []
        self.role_assignments: list[RoleAssignment] = []  # above any one vault

    def result(self) -> DeclaredResult:
        return DeclaredResult(vaults=list(self.vaults.values()), commands=self.commands,
                              role_assignments=self.role_assignments)

    def read_chunk(self, chunk: ScriptChunk) -> None:
        self.chunk = chunk
        secret_vars = dict(chunk.secret_vars)
        commands = ShellScanner(chunk.text, chunk.dialect).scan()
        # Commands inside $(...) are listed after the outer ones; order by position.
        commands.sort(key=lambda c: c.words[0].start)
        for command in commands:
            self._track_assignments(command, secret_vars)
            words = _command_words(command)
            if not words:
                continue
            program = words[0].text.lower()
            if program == "az" and len(words) > 2 and words[1].text == "keyvault":
                self._az_keyvault(command, words, secret_vars)
            elif program == "az" and [w.text for w in words[1:4]] == ["role", "assignment", "create"]:
                from kvlint.vaultmodel.azroles import role_assignment

                role_assignment(self, _AzArgs(words[4:]), self.origin(words))
            self._exposure(command, words, program, secret_vars)

    # -- positions ---------------------------------------------------------------------------------

    def span(self, start_word: Word, end_word: Word | None = None) -> Span:
        end_word = end_word or start_word
        line, col = self.chunk.to_source(start_word.start)
        end_line, end_col = self.chunk.to_source(max(end_word.end - 1, end_word.start))
        return Span(line, col, end_line, end_col + 1)

    def origin(self, words: list[Word]) -> Origin:
        return Origin("azcli", self.path, self.span(words[0], words[-1]))

    def arg_span(self, arg: _Arg) -> Span:
        return self.span(arg.option, arg.values[-1] if arg.values else arg.option)

    # -- vaults ------------------------------------------------------------------------------------

    def vault(self, word: Word | None, origin: Origin) -> Vault:
        if word is None:
            ref, name = "⟨vault⟩", UNKNOWN
        else:
            name = word.literal if word.literal else UNKNOWN
            ref = word.literal or word.text
        if ref not in self.vaults:
            self.vaults[ref] = Vault(ref=ref, name=name, is_reference=True, origin=origin)
        return self.vaults[ref]

    def vault_named(self, name: str, origin: Origin) -> Vault:
        if name not in self.vaults:
            self.vaults[name] = Vault(ref=name, name=name, is_reference=True, origin=origin)
        return self.vaults[name]

    def _az_keyvault(self, command: SimpleCommand, words: list[Word], secret_vars: dict[str, str]) -> None:
        sub = [w.text for w in words[2:4]]
        args = _AzArgs(words[2:])
        origin = self.origin(words)
        if sub[0] in ("create", "update"):
            self._create_or_update(args, origin, creating=sub[0] == "create")
        elif sub[0] == "set-policy":
            self._set_policy(args, origin)
        elif sub[:2] == ["secret", "set"]:
            self._secret_set(args, origin)
        elif sub[:2] == ["secret", "set-attributes"]:
            self._secret_attributes(args)
        elif sub[:2] == ["secret", "show"]:
            self._secret_show(command, args, origin, secret_vars)
        elif sub[:2] == ["key", "create"]:
            self._key_create(args, origin)
        elif sub[:2] == ["key", "rotation-policy"] and len(words) > 4 and words[4].text == "update":
            self._rotation_update(args)
        elif sub[:2] == ["certificate", "create"]:
            vault = self.vault(_first(args.get("--vault-name")), origin)
            name = _first(args.get("--name", "-n"))
            vault.certificates.append(VaultCertificate(name=_literal(name), origin=origin))

    def _create_or_update(self, args: _AzArgs, origin: Origin, creating: bool) -> None:
        vault = self.vault(_first(args.get("--name", "-n")), origin)
        if creating:
            vault.is_reference = False
            vault.origin = origin
            vault.location = (
                _literal(_first(args.get("--location", "-l"))) if args.get("--location", "-l") else UNKNOWN
            )
            vault.sku = _literal(_first(args.get("--sku"))) if args.get("--sku") else "standard"
            vault.tenant = UNKNOWN  # the signed-in tenant
            vault.rbac_authorization = UNKNOWN  # default depends on the az CLI version (2.61.0 flipped it)
            vault.soft_delete = True
            vault.soft_delete_retention_days = DEFAULT_SOFT_DELETE_RETENTION_DAYS
            vault.purge_protection = False
            vault.public_network_access = "Enabled"
            vault.network_default_action = "Allow"
            vault.network_bypass = None
            vault.ip_rules, vault.vnet_rules = [], []
        settings = (
            ("rbac_authorization", ("--enable-rbac-authorization",), _flag),
            ("purge_protection", ("--enable-purge-protection",), _flag),
            ("soft_delete", ("--enable-soft-delete",), _flag),
            ("soft_delete_retention_days", ("--retention-days",), _int_arg),
            ("public_network_access", ("--public-network-access",), _choice_arg("Enabled", "Disabled")),
            ("network_default_action", ("--default-action",), _choice_arg("Allow", "Deny")),
            ("network_bypass", ("--bypass",), lambda a: _literal(_first(a))),
            ("ip_rules", ("--network-acls-ips",), _list_arg),
            ("vnet_rules", ("--network-acls-vnets",), _list_arg),
        )
        for model_field, names, convert in settings:
            arg = args.get(*names)
            if arg is None:
                continue
            setattr(vault, model_field, convert(arg))
            vault.origin.fields[model_field] = self.arg_span(arg)

    def _set_policy(self, args: _AzArgs, origin: Origin) -> None:
        vault = self.vault(_first(args.get("--name", "-n")), origin)
        principal_arg, kind = args.get("--object-id"), "object-id"
        if principal_arg is None:
            for option, option_kind in (("--spn", "spn"), ("--upn", "upn")):
                if (principal_arg := args.get(option)) is not None:
                    kind = option_kind
                    break
        policy = AccessPolicy(
            principal=_literal(_first(principal_arg)),
            origin=origin,
            principal_kind=kind,
            application_id=_literal(_first(args.get("--application-id")))
            if args.get("--application-id")
            else None,
        )
        if principal_arg is not None:
            policy.origin.fields["principal"] = self.arg_span(principal_arg)
        for option, model_key in _PERMISSION_OPTIONS.items():
            arg = args.get(option)
            if arg is None:
                continue
            values = [_literal(w) for w in arg.values]
            policy.permissions[model_key] = (
                UNKNOWN if any(v is UNKNOWN for v in values) else {str(v).lower() for v in values}
            )
            policy.origin.fields[model_key] = self.arg_span(arg)
        vault.access_policies.append(policy)

    def _secret_set(self, args: _AzArgs, origin: Origin) -> None:
        vault = self.vault(_first(args.get("--vault-name")), origin)
        secret = VaultSecret(name=_literal(_first(args.get("--name", "-n"))), origin=origin)
        secret.enabled = not _flag(args.get("--disabled")) if args.get("--disabled") else True
        secret.content_type = _literal(_first(args.get("--content-type", "--description")))
        if args.get("--content-type", "--description") is None:
            secret.content_type = None
        for option, model_field in (("--expires", "expires"), ("--not-before", "not_before")):
            arg = args.get(option)
            if arg is not None:
                value = _literal(_first(arg))
                setattr(secret, model_field, UNKNOWN if value is UNKNOWN else parse_datetime(value))
                origin.fields[model_field] = self.arg_span(arg)
        value_arg = args.get("--value")
        if value_arg is not None and value_arg.values:
            word = value_arg.values[0]
            literal = word.literal
            origin.fields["value"] = self.span(word)
            if len(word.raw) >= 2 and word.raw[0] == word.raw[-1] and word.raw[0] in "'\"":
                inner = Word(word.start + 1, word.end - 1, word.raw[1:-1], word.text)
                origin.fields["value"] = self.span(inner)  # the secret itself, without its quotes
            if literal and not literal.startswith("@"):
                secret.has_literal_value = True
                secret.literal = SecretText(literal)
        vault.secrets.append(secret)

    def _find(self, collection: str, args: _AzArgs) -> Any:
        vault = self.vaults.get(_ref(_first(args.get("--vault-name"))))
        name = _literal(_first(args.get("--name", "-n")))
        if vault is None or name is UNKNOWN:
            return None
        matches = [item for item in getattr(vault, collection) if item.name == name]
        return matches[-1] if matches else None

    def _secret_attributes(self, args: _AzArgs) -> None:
        secret = self._find("secrets", args)
        arg = args.get("--expires")
        if secret is not None and arg is not None:
            value = _literal(_first(arg))
            secret.expires = UNKNOWN if value is UNKNOWN else parse_datetime(value)
            secret.origin.fields["expires"] = self.arg_span(arg)

    def _secret_show(
        self, command: SimpleCommand, args: _AzArgs, origin: Origin, secret_vars: dict[str, str]
    ) -> None:
        query = args.get("--query")
        query_text = " ".join(w.text for w in query.values) if query else None
        if query_text is not None and "value" not in query_text:
            return  # only metadata is selected
        output = _literal(_first(args.get("--output", "-o")))
        if output == "none":
            return
        name = _literal(_first(args.get("--name", "-n")))
        vault_word = _first(args.get("--vault-name"))
        printed = _printed(command)
        self.commands.append(
            Command(
                kind=SECRET_VALUE_READ,
                origin=origin,
                vault=_literal(vault_word) if vault_word else None,
                name=name,
                program="az",
                printed=printed,
                detail="--query value" if query_text else "full secret object",
            )
        )
        if command.assigned_to:
            secret_vars[command.assigned_to] = "az keyvault secret show"

    def _key_create(self, args: _AzArgs, origin: Origin) -> None:
        vault = self.vault(_first(args.get("--vault-name")), origin)
        key = VaultKey(name=_literal(_first(args.get("--name", "-n"))), origin=origin)
        key.key_type = _literal(_first(args.get("--kty"))) if args.get("--kty") else None
        key.enabled = not _flag(args.get("--disabled")) if args.get("--disabled") else True
        arg = args.get("--expires")
        if arg is not None:
            value = _literal(_first(arg))
            key.expires = UNKNOWN if value is UNKNOWN else parse_datetime(value)
            origin.fields["expires"] = self.arg_span(arg)
        vault.keys.append(key)

    def _rotation_update(self, args: _AzArgs) -> None:
        key = self._find("keys", args)
        if key is None:
            return
        value = _literal(_first(args.get("--value")))
        key.rotation_policy = _rotation_from_json(value) if isinstance(value, str) else UNKNOWN
        if (arg := args.get("--value")) is not None:
            key.origin.fields["rotation_policy"] = self.arg_span(arg)

    # -- exposure ----------------------------------------------------------------------------------

    def _track_assignments(self, command: SimpleCommand, secret_vars: dict[str, str]) -> None:
        for word in command.words:
            pair = assignment(word)
            if pair is None:
                break
            reference = _secret_reference(word, secret_vars)
            if reference:
                secret_vars[pair[0]] = reference

    def _exposure(
        self, command: SimpleCommand, words: list[Word], program: str, secret_vars: dict[str, str]
    ) -> None:
        if program in _SILENT_BUILTINS or assignment(words[0]):
            return
        if program in _ECHO:
            if any(marker in w.text for w in words for marker in _MASKING_MARKERS):
                return
            for word in words[1:]:
                reference = _secret_reference(word, secret_vars)
                if reference:
                    self.commands.append(
                        Command(
                            kind=SECRET_ECHO,
                            origin=Origin("azcli", self.path, self.span(word)),
                            program=program,
                            printed=_printed(command),
                            detail=reference,
                        )
                    )
            return
        for word in words[1:]:
            reference = _secret_reference(word, secret_vars)
            if reference:
                self.commands.append(
                    Command(
                        kind=SECRET_ARGUMENT,
                        origin=Origin("azcli", self.path, self.span(word)),
                        program=program,
                        detail=reference,
                    )
                )


def _command_words(command: SimpleCommand) -> list[Word]:
    """The words from the command name on: prefix assignments, wrappers and keywords dropped."""
    words = list(command.words)
    if len(words) > 2 and words[0].text.startswith("$") and words[1].text == "=":
        command.captured = True  # PowerShell: $x = az ...
        command.assigned_to = words[0].text[1:]
        words = words[2:]
    while words:
        first = words[0]
        lowered = first.text.lower()
        if assignment(first) and len(words) > 1:
            words = words[1:]
        elif lowered in _KEYWORDS or lowered in _WRAPPERS:
            words = words[1:]
            while words and words[0].text.startswith("-") and lowered in ("sudo", "env", "xargs"):
                words = words[1:]
        else:
            break
    return words


def _secret_reference(word: Word, secret_vars: dict[str, str]) -> str | None:
    for expansion in word.expansions:
        if expansion.kind == "gha" and expansion.name.replace(" ", "").startswith("secrets."):
            return expansion.name.replace(" ", "")
        if expansion.kind == "var" and expansion.name in secret_vars:
            return f"${expansion.name} ({secret_vars[expansion.name]})"
    return None


def _printed(command: SimpleCommand) -> bool:
    """Whether the command's stdout ends up in the log (not captured, redirected or consumed)."""
    if command.captured or command.stdout_redirected:
        return False
    for stage in command.piped_to:
        if not stage.words or stage.words[0].text.lower() not in _PASS_THROUGH:
            return False
        if stage.stdout_redirected:
            return False
    return True


def _first(arg: _Arg | None) -> Word | None:
    return arg.values[0] if arg and arg.values else None


def _literal(word: Word | None) -> Any:
    if word is None:
        return None
    return word.literal if word.literal is not None else UNKNOWN


def _ref(word: Word | None) -> str:
    if word is None:
        return "⟨vault⟩"
    return word.literal or word.text


def _flag(arg: _Arg | None) -> Any:
    if arg is None:
        return None
    if not arg.values:
        return True
    value = _literal(arg.values[0])
    if value is UNKNOWN:
        return UNKNOWN
    return _BOOL_WORDS.get(str(value).lower(), UNKNOWN)


def _int_arg(arg: _Arg) -> Any:
    value = _literal(_first(arg))
    return int(value) if isinstance(value, str) and value.isdigit() else UNKNOWN


def _choice_arg(*choices: str) -> Any:
    def convert(arg: _Arg) -> Any:
        value = _literal(_first(arg))
        for choice in choices:
            if isinstance(value, str) and value.lower() == choice.lower():
                return choice
        return UNKNOWN

    return convert


def _list_arg(arg: _Arg) -> Any:
    values = [_literal(w) for w in arg.values]
    return UNKNOWN if any(v is UNKNOWN for v in values) else values


def _rotation_from_json(value: str) -> Any:
    """A rotation policy given inline as JSON; a file path (`@policy.json`) is UNKNOWN."""
    if value.startswith("@"):
        return UNKNOWN
    try:
        data = json.loads(value)
    except ValueError:
        return UNKNOWN
    if not isinstance(data, dict):
        return UNKNOWN
    policy = RotationPolicy()
    attrs = data.get("attributes")
    if isinstance(attrs, dict):
        policy.expiry_time = attrs.get("expiryTime")
    for entry in data.get("lifetimeActions") or []:
        if not isinstance(entry, dict):
            continue
        trigger = entry.get("trigger") if isinstance(entry.get("trigger"), dict) else {}
        action = entry.get("action") if isinstance(entry.get("action"), dict) else {}
        kind = action.get("type")
        policy.lifetime_actions.append(  # type: ignore[union-attr]
            LifetimeAction(
                action=kind.lower() if isinstance(kind, str) else UNKNOWN,
                time_after_create=trigger.get("timeAfterCreate"),
                time_before_expiry=trigger.get("timeBeforeExpiry"),
            )
        )
    return policy
