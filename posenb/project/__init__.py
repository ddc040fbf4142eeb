"""Projects: config.yaml (``config.py``: DeepLabCut's dict API over the typed ``ProjectConfig`` of
``project_config.py``; key set in ``config_schema.py``, value rules in ``config_validate.py``, posenb.yaml in
``settings.py``), DeepLabCut naming rules (``paths.py``), project creation (``create.py``),
project status (``status.py``) and DeepLabCut's label-file helpers (``label_tools.py``).

Stands on ``posenb.io`` (video reading, label tables, atomic writes) and imports no later stage.
"""

from posenb.project.config import read_config, read_settings, validate_config, write_config, write_settings
from posenb.project.create import add_new_videos, create_new_project

__all__ = ["read_config", "write_config", "validate_config", "read_settings", "write_settings", "create_new_project", "add_new_videos"]
