"""${message}"""
import sqlalchemy as sa
from alembic import op

import shared.db
${imports if imports else ""}
# Autogenerate's commands are a draft: write tables with the helpers in shared/migrations.py
# (`upgrade, downgrade = new_tables(table(...))`), then drop the imports left unused.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
% if branch_labels:
branch_labels = ${repr(branch_labels)}
% endif
% if depends_on:
depends_on = ${repr(depends_on)}
% endif


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
