"""The rules language of health, risk, lifecycle, tag and milestone rules, and their loader.

A rule is one expression, parsed by a lark grammar (never Python's eval) and type-checked
when the files load. Every problem, in every file, is reported at once with file, line,
column and the fix.

Values
    numbers (`5`, `0.7`), text (`"enterprise"`, `'pro'`), `true`, `false`, `null`,
    lists after `in` (`["pro", "enterprise"]`).
Names
    metrics: active_users_{1,7,14,30}d, events_{7,14,30}d, time_spent_{7,14}d_minutes,
    active_days_{7,14}d, last_active_at, dau_mau, license_utilization, usage_trend
    ("up"/"flat"/"down"), visit_frequency ("daily"/"weekly"/"occasionally"/"inactive"),
    engagement_score, engaged_evaluation;
    account fields: account_id, name, status, licenses, plan, created_at, trial_started_at,
    trial_ends_at, paid_at, cancelled_at, csm_email, company_size, parent_account_id;
    extra columns: `attributes.region` (or `region` when the loader is told the columns);
    results of earlier stages: health_rank (risk rules on), risk_level (milestone rules on),
    lifecycle_stage (tag rules).
Operators
    `== != < <= > >=`, `and or not`, `+ - * /`, `in [..]`, `not in [..]`, parentheses.
    Text compares with `==`/`!=` only; dates become numbers with days_since/days_until.
Functions
    events("name", days) and module_events("module", days): counts in a window;
    active_days(days[, days_before]): active days in a window ending `days_before` ago;
    first_seen("event"): the date an event first happened (null if never);
    days_since(date), days_until(date): calendar days from/to the evaluation day;
    is_null(x), coalesce(x, default), abs(x), min(a, b), max(a, b);
    previous(name), changed(name): the value on the day before (on the evaluation day, what
    the previous run concluded, when known); reached("milestone"): lifecycle and tag rules.
Nulls
    A comparison with null is null, `and`/`or` follow three-valued logic, and a rule whose
    condition ends null does not hold; `x == null` asks whether x is null.
"""
