"""Projects: config.yaml (``config.py``), DeepLabCut naming rules (``paths.py``), project creation (``create.py``).

Imports only numpy and pyyaml at module level.
"""

from posenb.project.config import read_config, read_settings, validate_config, write_config, write_settings
from posenb.project.create import add_new_videos, create_new_project

__all__ = ["read_config", "write_config", "validate_config", "read_settings", "write_settings", "create_new_project", "add_new_videos"]
