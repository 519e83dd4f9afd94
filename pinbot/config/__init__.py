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
    REQUIREMENTS,
    Config,
    GithubConfig,
    MergeMethod,
    NotesConfig,
    PinConfig,
    PinStyle,
    PolicyConfig,
    PrGroup,
    RegistryConfig,
    RepositoryConfig,
    Rule,
    ScanConfig,
    Verification,
    image_matches,
)
from pinbot.config._tables import DeclaredKey, KeyRow, declared_keys, key_rows
from pinbot.config._values import ConfigError

__all__ = [
    "REPOSITORY_KEYS",
    "REQUIREMENTS",
    "Config",
    "ConfigError",
    "DeclaredKey",
    "GithubConfig",
    "KeyRow",
    "MergeMethod",
    "NotesConfig",
    "PinConfig",
    "PinStyle",
    "PolicyConfig",
    "PrGroup",
    "RegistryConfig",
    "RepositoryConfig",
    "Rule",
    "ScanConfig",
    "Verification",
    "declared_keys",
    "image_matches",
    "key_rows",
    "load_config",
    "load_config_text",
    "load_repository_config",
]
