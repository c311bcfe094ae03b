"""Configuration loading: every problem reported with file, line, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import load_settings, sqlite_url_from, unset_env_for
from connector.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(text)
    return p


def test_defaults_without_a_file() -> None:
    s = load_settings(None, env={})
    assert s.timezone == "UTC"
    assert s.store.url == "sqlite:///connector.db"
    assert s.salesforce.api_version == "62.0"


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    p = write(
        tmp_path, "timezone: Mars/Base\nsource:\n  preset: genric\nsalesforce:\n  pasword: x\n"
    )
    with pytest.raises(ConfigError) as info:
        load_settings(p, env={})
    text = str(info.value)
    assert f"{p}:1 (timezone)" in text
    assert f"{p}:3 (source.preset)" in text
    assert f"{p}:5 (salesforce.pasword)" in text
    assert "did you mean 'password'" in text
    assert len(info.value.problems) == 3


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    p = write(tmp_path, "store:\n  url: sqlite:///a.db\n  bad: [unclosed\n")
    with pytest.raises(ConfigError, match=r"config\.yaml:\d+: this is not valid YAML"):
        load_settings(p, env={})


def test_env_substitution_and_overrides(tmp_path: Path) -> None:
    p = write(tmp_path, "salesforce:\n  client_id: ${SF_CLIENT_ID}\n  password: ${SF_PASSWORD}\n")
    s = load_settings(p, env={"SF_CLIENT_ID": "abc", "CONNECTOR__STORE__URL": "sqlite:///o.db"})
    assert s.salesforce.client_id == "abc"
    assert s.salesforce.password is None
    assert unset_env_for(s, "salesforce.password") == "SF_PASSWORD"
    assert s.store.url == "sqlite:///o.db"


def test_a_required_value_from_an_unset_variable_names_the_variable(tmp_path: Path) -> None:
    p = write(tmp_path, "store:\n  url: ${STORE_URL}\ntimezone: ${TZ_NAME:-Mars/Base}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(p, env={})
    by_where = {problem.where: problem for problem in info.value.problems}
    store = by_where[f"{p}:2 (store.url)"]
    assert store.message == "store.url refers to ${STORE_URL}, which is not set."
    assert store.fix.startswith("export STORE_URL=")
    assert "not set" not in by_where[f"{p}:3 (timezone)"].message  # a bad default, not unset


def test_env_override_error_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="CONNECTOR__SALESFORCE__AUTH"):
        load_settings(None, env={"CONNECTOR__SALESFORCE__AUTH": "magic"})


def test_secrets_never_print(tmp_path: Path) -> None:
    p = write(tmp_path, "salesforce:\n  client_secret: s3cr3t-value\n")
    s = load_settings(p, env={})
    assert "s3cr3t-value" not in repr(s)
    assert "s3cr3t-value" in s.secrets()


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    p = write(tmp_path, "mappings: ./maps\nsalesforce:\n  ca_bundle: ca.pem\n")
    s = load_settings(p, env={})
    assert s.mappings == tmp_path / "maps"
    assert s.salesforce.ca_bundle == tmp_path / "ca.pem"


def test_the_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    s = load_settings(example, env={"SF_CLIENT_ID": "id"})
    assert s.salesforce.client_id == "id"
    assert s.source.preset == "generic"


def test_parallel_reads_is_decided_per_engine_unless_set(tmp_path: Path) -> None:
    assert load_settings(None, env={}).source.parallel_reads is None
    env = {"CONNECTOR__SOURCE__PARALLEL_READS": "3"}
    assert load_settings(None, env=env).source.parallel_reads == 3
    p = write(tmp_path, "source:\n  parallel_reads: 0\n")
    with pytest.raises(ConfigError, match=rf"{p}:2 \(source\.parallel_reads\)"):
        load_settings(p, env={})


def test_an_unset_variable_inside_a_value_is_named_not_dropped(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "source:\n  url: postgresql+psycopg://app:${DB_PW}@db/product\n"
        "store:\n  url: sqlite:///${STORE_DIR:-.}/s.db\n",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(p, env={})
    (problem,) = info.value.problems
    assert problem.where == f"{p}:2 (source.url)"
    assert problem.message == "source.url refers to ${DB_PW}, which is not set."
    assert "${DB_PW:-}" in problem.fix
    s = load_settings(p, env={"DB_PW": "pw"})
    assert s.source.url == "postgresql+psycopg://app:pw@db/product"
    assert s.store.url == "sqlite:///./s.db"


@pytest.mark.parametrize(
    ("name", "raw", "key"),
    [
        ("CONNECTOR__SALESFORCE__API_VERSION", "58.0", "api_version"),
        ("CONNECTOR__SALESFORCE__PASSWORD", "123456", "password"),
        ("CONNECTOR__SALESFORCE__PASSWORD", "p@ss: word", "password"),
    ],
)
def test_text_settings_take_overrides_that_read_as_numbers_or_yaml(
    name: str, raw: str, key: str
) -> None:
    value = getattr(load_settings(None, env={name: raw}).salesforce, key)
    assert (value if isinstance(value, str) else value.get_secret_value()) == raw


def test_an_override_of_an_unknown_section_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={"CONNECTOR__SOURC__URL": "sqlite:///x.db"})
    (problem,) = info.value.problems
    assert problem.where == "environment (CONNECTOR__SOURC__URL)"
    assert "did you mean 'source'" in problem.fix


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///product.db", "sqlite:////base/product.db"),
        ("sqlite:///sub/p.db?mode=ro", "sqlite:////base/sub/p.db?mode=ro"),
        ("sqlite:////abs/p.db", "sqlite:////abs/p.db"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql+psycopg://u:pw@h/db", "postgresql+psycopg://u:pw@h/db"),
    ],
)
def test_relative_sqlite_urls_can_be_made_absolute(url: str, expected: str) -> None:
    assert sqlite_url_from(url, Path("/base")) == expected
