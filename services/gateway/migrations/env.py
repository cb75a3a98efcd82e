from services.gateway.adapters.tables import metadata
from soesmart.alembic_env import run

run(metadata)
