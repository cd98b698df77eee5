"""ledger integrity enforced by PostgreSQL itself

The service checks these rules too; the database checks them again so that a bug elsewhere,
or a hand-written SQL statement, cannot corrupt the books:
- a posting must have at least two lines, and its debits must equal its credits in every
  currency: deferred constraint triggers check this at COMMIT (so lines can be inserted one
  by one within the transaction);
- postings and lines are append-only: UPDATE, DELETE and TRUNCATE are refused.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK_POSTING_FUNCTION = """
CREATE FUNCTION ledger_check_posting_balanced(p_posting_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    line_count integer;
    bad_currency text;
BEGIN
    SELECT count(*) INTO line_count FROM ledger_lines WHERE posting_id = p_posting_id;
    IF line_count < 2 THEN
        RAISE EXCEPTION 'ledger posting % has % line(s); a posting needs at least two',
            p_posting_id, line_count
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT currency INTO bad_currency
    FROM ledger_lines
    WHERE posting_id = p_posting_id
    GROUP BY currency
    HAVING sum(CASE side WHEN 'debit' THEN amount ELSE -amount END) <> 0
    LIMIT 1;
    IF bad_currency IS NOT NULL THEN
        RAISE EXCEPTION 'ledger posting % is unbalanced in %: debits must equal credits',
            p_posting_id, bad_currency
            USING ERRCODE = 'check_violation';
    END IF;
END;
$$;
"""

LINE_TRIGGER_FUNCTION = """
CREATE FUNCTION ledger_lines_check_balance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_check_posting_balanced(NEW.posting_id);
    RETURN NULL;
END;
$$;
"""

POSTING_TRIGGER_FUNCTION = """
CREATE FUNCTION ledger_postings_check_balance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_check_posting_balanced(NEW.id);
    RETURN NULL;
END;
$$;
"""

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused; post a reversing entry instead',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

TRIGGERS = [
    # Deferred to COMMIT: lines of one posting arrive one INSERT at a time.
    """
    CREATE CONSTRAINT TRIGGER ledger_lines_balanced
    AFTER INSERT ON ledger_lines
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_lines_check_balance()
    """,
    # Catches a posting committed with no lines at all, which no line trigger would see.
    """
    CREATE CONSTRAINT TRIGGER ledger_postings_balanced
    AFTER INSERT ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_postings_check_balance()
    """,
    """
    CREATE TRIGGER ledger_lines_append_only
    BEFORE UPDATE OR DELETE ON ledger_lines
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_lines_no_truncate
    BEFORE TRUNCATE ON ledger_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_postings_append_only
    BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_postings_no_truncate
    BEFORE TRUNCATE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
    """,
]

DROPS = [
    "DROP TRIGGER ledger_postings_no_truncate ON ledger_postings",
    "DROP TRIGGER ledger_postings_append_only ON ledger_postings",
    "DROP TRIGGER ledger_lines_no_truncate ON ledger_lines",
    "DROP TRIGGER ledger_lines_append_only ON ledger_lines",
    "DROP TRIGGER ledger_postings_balanced ON ledger_postings",
    "DROP TRIGGER ledger_lines_balanced ON ledger_lines",
    "DROP FUNCTION ledger_refuse_change()",
    "DROP FUNCTION ledger_postings_check_balance()",
    "DROP FUNCTION ledger_lines_check_balance()",
    "DROP FUNCTION ledger_check_posting_balanced(bigint)",
]


def upgrade() -> None:
    for statement in (
        CHECK_POSTING_FUNCTION,
        LINE_TRIGGER_FUNCTION,
        POSTING_TRIGGER_FUNCTION,
        APPEND_ONLY_FUNCTION,
        *TRIGGERS,
    ):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROPS:
        op.execute(statement)
