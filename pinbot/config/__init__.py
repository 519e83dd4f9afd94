"""pinbot's configuration: every key declared once, read and checked from YAML into frozen values.

Sections and their keys are declared in ``_model`` (kind, default, help, operator only);
``_load`` reads files with them, and every problem names the file, line and key.
"""

from pinbot.config._load import (
    REPOSITORY_KEYS,
    load_config,
    load_config_text,
    load_repository_config,
)
from pinbot.config._model import (
    Config,
    GithubConfig,
    PinConfig,
    PinStyle,
    PolicyConfig,
    PrGroup,
    RegistryConfig,
    RepositoryConfig,
    ScanConfig,
)
from pinbot.config._tables import DeclaredKey, KeyRow, declared_keys, key_rows
from pinbot.config._values import ConfigError

__all__ = [
    "REPOSITORY_KEYS",
    "Config",
    "ConfigError",
    "DeclaredKey",
    "GithubConfig",
    "KeyRow",
    "PinConfig",
    "PinStyle",
    "PolicyConfig",
    "PrGroup",
    "RegistryConfig",
    "RepositoryConfig",
    "ScanConfig",
    "declared_keys",
    "key_rows",
    "load_config",
    "load_config_text",
    "load_repository_config",
]
