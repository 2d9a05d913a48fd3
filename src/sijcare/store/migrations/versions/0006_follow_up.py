"""Follow-up: procedure outcomes (relief moves out of `procedures`), the follow-up schedule,
questionnaire links, reminder contacts and reminders; PROMs can be marked patient-reported.

Each procedure's relief becomes one outcome record, dated and recorded on the day the
procedure was recorded (when that relief was known), with the procedure's recorder and
entered-in-error marks, so the case of every past day is unchanged. Downgrade puts the
latest outcome's relief back on its procedure. SQLite drops the columns natively (3.35+):
rebuilding `procedures` would run into the outcome rows that refer to it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
RELIEF = ("relief_percent", "relief_weeks", "relief_ongoing")
COMMON = "episode_id, recorded_on, recorded_by, created_at, voided_on, voided_by, void_reason"


def _record_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("voided_on", sa.Date(), nullable=True),
        sa.Column("voided_by", sa.Integer(), nullable=True),
        sa.Column("void_reason", sa.String(200), nullable=True),
    ]


def _record_constraints(table: str) -> list[sa.Constraint]:
    return [
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"],
                                name=f"fk_{table}_episode_id_episodes"),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"],
                                name=f"fk_{table}_recorded_by_users"),
        sa.ForeignKeyConstraint(["voided_by"], ["users.id"], name=f"fk_{table}_voided_by_users"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def upgrade() -> None:
    op.create_table(
        "procedure_outcomes",
        *_record_columns(),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("nrs_before", sa.Double(), nullable=True),
        sa.Column("nrs_after", sa.Double(), nullable=True),
        sa.Column("relief_percent", sa.Double(), nullable=True),
        sa.Column("relief_weeks", sa.Double(), nullable=True),
        sa.Column("relief_ongoing", sa.Boolean(), nullable=True),
        sa.Column("pgic", sa.Integer(), nullable=True),
        sa.Column("complications", JSON, nullable=True),
        *_record_constraints("procedure_outcomes"),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedures.id"],
                                name="fk_procedure_outcomes_procedure_id_procedures"),
    )
    op.create_index("ix_procedure_outcomes_episode_id", "procedure_outcomes", ["episode_id"])
    op.create_index("ix_procedure_outcomes_procedure_id", "procedure_outcomes", ["procedure_id"])
    op.execute(
        f"INSERT INTO procedure_outcomes ({COMMON}, procedure_id, date, {', '.join(RELIEF)}) "
        f"SELECT {COMMON}, id, recorded_on, {', '.join(RELIEF)} FROM procedures "
        f"WHERE {' OR '.join(f'{c} IS NOT NULL' for c in RELIEF)} ORDER BY id")
    for column in RELIEF:
        op.execute(f"ALTER TABLE procedures DROP COLUMN {column}")

    op.add_column("proms", sa.Column("patient_reported", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))

    op.create_table(
        "follow_up_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("point", sa.String(10), nullable=False),
        sa.Column("anchor", sa.String(20), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=True),
        sa.Column("procedure_date", sa.Date(), nullable=True),
        sa.Column("procedure_kind", sa.String(30), nullable=True),
        sa.Column("clinician_id", sa.Integer(), nullable=True),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("window_from", sa.Date(), nullable=False),
        sa.Column("window_to", sa.Date(), nullable=False),
        sa.Column("instruments", JSON, nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("derived_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"],
                                name="fk_follow_up_points_episode_id_episodes"),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"],
                                name="fk_follow_up_points_clinic_id_clinics"),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedures.id"],
                                name="fk_follow_up_points_procedure_id_procedures"),
        sa.ForeignKeyConstraint(["clinician_id"], ["users.id"],
                                name="fk_follow_up_points_clinician_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_follow_up_points"),
        sa.UniqueConstraint("episode_id", "key", name="uq_follow_up_points_episode_id_key"),
    )
    op.create_index("ix_follow_up_points_episode_id", "follow_up_points", ["episode_id"])
    op.create_index("ix_follow_up_points_clinic_due", "follow_up_points", ["clinic_id", "due"])

    op.create_table(
        "questionnaire_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("point_key", sa.String(40), nullable=False),
        sa.Column("point", sa.String(10), nullable=False),
        sa.Column("instruments", JSON, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"],
                                name="fk_questionnaire_links_episode_id_episodes"),
        sa.ForeignKeyConstraint(["issued_by"], ["users.id"],
                                name="fk_questionnaire_links_issued_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_questionnaire_links"),
        sa.UniqueConstraint("token_hash", name="uq_questionnaire_links_token_hash"),
    )
    op.create_index("ix_questionnaire_links_episode_id", "questionnaire_links", ["episode_id"])

    op.create_table(
        "reminder_contacts",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("opted_out_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name="fk_reminder_contacts_patient_id_patients"),
        sa.PrimaryKeyConstraint("patient_id", name="pk_reminder_contacts"),
    )
    op.create_table(
        "follow_up_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("point_key", sa.String(40), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"],
                                name="fk_follow_up_reminders_episode_id_episodes"),
        sa.ForeignKeyConstraint(["link_id"], ["questionnaire_links.id"],
                                name="fk_follow_up_reminders_link_id_questionnaire_links"),
        sa.PrimaryKeyConstraint("id", name="pk_follow_up_reminders"),
    )
    op.create_index("ix_follow_up_reminders_point", "follow_up_reminders",
                    ["episode_id", "point_key"])


def downgrade() -> None:
    for table in ("follow_up_reminders", "reminder_contacts", "questionnaire_links",
                  "follow_up_points"):
        op.drop_table(table)
    op.execute("ALTER TABLE proms DROP COLUMN patient_reported")
    op.add_column("procedures", sa.Column("relief_percent", sa.Double(), nullable=True))
    op.add_column("procedures", sa.Column("relief_weeks", sa.Double(), nullable=True))
    op.add_column("procedures", sa.Column("relief_ongoing", sa.Boolean(), nullable=True))
    latest = ("SELECT o.{column} FROM procedure_outcomes o WHERE o.procedure_id = procedures.id "
              "AND o.{column} IS NOT NULL ORDER BY o.date DESC, o.id DESC LIMIT 1")
    op.execute("UPDATE procedures SET " + ", ".join(
        f"{column} = ({latest.format(column=column)})" for column in RELIEF))
    op.drop_table("procedure_outcomes")
