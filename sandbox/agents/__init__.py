"""Agents: the agent loop, model adapters (litellm), scripted policies and a fake model server.

litellm must never fetch its cost map from the network (no run may depend on it, and this is
slow offline): the offline map is selected here, before any module of this package can import
litellm.
"""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
