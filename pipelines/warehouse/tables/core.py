"""`core` schema: received files, returns (submissions), observations with cell lineage, quarantine.

Files: one `source_file` row per file version (path + content). `file_id` is the SHA-256 of the
content for the first file with those bytes; a later file with the same bytes at another path is
registered under `<sha256>@<sha256(path)[:12]>`. It is an exact duplicate (status `duplicate`,
`duplicate_of` naming the original, no values) when the original was loaded and the copy reads
as the same unit and periods; otherwise (a CSV whose period is only in its file name, a return
rejected as sent too early and sent again) it is judged as a return of its own.

Revisions: a corrected file for the same unit and period creates a new submission with a higher
`revision_no`; the observations it replaces (same unit, indicator and period) get `valid_to` set to
the new file's `received_at` and `is_current = false`; the old values are kept.
"The value as reported on date X" is
    WHERE valid_from <= X AND (valid_to IS NULL OR valid_to > X)
(`pipelines.returns.load.values_as_of(conn, X)`); the view `core.observation_current` holds the
current values only (created by the loader).
"""

from pipelines.warehouse.schema import table

SOURCE_FILE = table(
    "core",
    "source_file",
    "Every file version seen in data/raw/ (path + content): detection results, status and reasons. Re-reading an unchanged file changes nothing.",
    [
        (
            "file_id",
            "VARCHAR",
            "SHA-256 of the file content (identical content = same file); a later file with the same "
            "bytes at another path is registered as <sha256>@<path hash> (see duplicate_of)",
            False,
        ),
        ("path", "VARCHAR", "Path relative to the raw folder where it was first seen", False),
        ("content_sha256", "VARCHAR", "SHA-256 of the file content, always the bare hash"),
        (
            "duplicate_of",
            "VARCHAR",
            "For an exact duplicate: file_id of the earlier file with the same bytes",
        ),
        ("file_name", "VARCHAR", "File name"),
        ("file_format", "VARCHAR", "xlsx | xlsm | xls | ods | csv | unknown"),
        ("size_bytes", "BIGINT", "Size in bytes"),
        ("received_at", "TIMESTAMP", "When the file was received (file modification time when it landed)"),
        ("processed_at", "TIMESTAMP", "When the pipeline processed it"),
        ("county_code", "VARCHAR", "Detected county"),
        ("org_code", "VARCHAR", "Detected reporting unit (NULL if not detected)"),
        (
            "org_detected_by",
            "VARCHAR",
            "What decided the unit: template | title | sheet | filename | folder | column",
        ),
        (
            "period_codes",
            "VARCHAR[]",
            "Detected periods (a workbook may hold several months on several sheets)",
        ),
        (
            "period_detected_by",
            "VARCHAR",
            "What decided the period: template | title | sheet | filename | column",
        ),
        (
            "template_version",
            "VARCHAR",
            "Template version from the hidden metadata sheet, if a platform template",
        ),
        ("layout", "VARCHAR", "Recognised layout: template | wide | long | multi_sheet | csv"),
        ("status", "VARCHAR", "accepted | partial (some values quarantined) | rejected | duplicate", False),
        ("values_loaded", "INTEGER", "Observations loaded from this file"),
        ("values_quarantined", "INTEGER", "Values quarantined from this file"),
        ("reason_codes", "VARCHAR[]", "File-level reason codes when rejected or duplicate"),
        ("message_zh", "VARCHAR", "File-level message in Chinese"),
        ("message_en", "VARCHAR", "File-level message in English"),
        (
            "feedback_path",
            "VARCHAR",
            "Feedback workbook written for the department (only for a file with problems), relative to the "
            "feedback folder; empty for a clean file, whose row is its receipt",
        ),
    ],
    ("file_id",),
)

SUBMISSION = table(
    "core",
    "submission",
    "Returns: one per file × unit × period, with revision number and timeliness against the calendar.",
    [
        ("submission_id", "VARCHAR", "Return id (file_id:org_code:period_code)", False),
        ("file_id", "VARCHAR", "File it came in", False),
        ("county_code", "VARCHAR", "County"),
        ("org_code", "VARCHAR", "Reporting unit", False),
        ("period_code", "VARCHAR", "Period reported", False),
        (
            "revision_no",
            "INTEGER",
            "1 for the first return of unit × period, +1 for each corrected resubmission",
            False,
        ),
        ("received_at", "TIMESTAMP", "When received"),
        ("due_date", "DATE", "Due date from dim.reporting_deadline"),
        ("working_days_late", "INTEGER", "Chinese working days after the due date (0 = on time)"),
        ("is_on_time", "BOOLEAN", "Received by the due date"),
        ("is_current", "BOOLEAN", "True for the latest revision of unit × period"),
        ("values_loaded", "INTEGER", "Observations in this return"),
        ("values_quarantined", "INTEGER", "Values quarantined in this return"),
    ],
    ("submission_id",),
)

OBSERVATION = table(
    "core",
    "observation",
    "Reported values in long form with lineage to file, sheet and cell, and revision validity. "
    "As reported on date X: WHERE valid_from <= X AND (valid_to IS NULL OR valid_to > X); "
    "current values only: the view core.observation_current.",
    [
        ("observation_id", "VARCHAR", "Stable id (submission, indicator, sheet, cell)", False),
        ("submission_id", "VARCHAR", "Return it belongs to", False),
        ("file_id", "VARCHAR", "Source file", False),
        ("county_code", "VARCHAR", "County"),
        ("org_code", "VARCHAR", "Reporting unit", False),
        ("indicator_code", "VARCHAR", "Indicator", False),
        ("period_code", "VARCHAR", "Period", False),
        ("value", "DOUBLE", "Normalised numeric value in the indicator's unit (NULL for qualitative)"),
        ("value_text", "VARCHAR", "Normalised text value for qualitative items (e.g. 达标, C级)"),
        ("raw_text", "VARCHAR", "The cell exactly as written"),
        ("unit", "VARCHAR", "Unit of the value"),
        ("sheet", "VARCHAR", "Sheet name (CSV: the file name)"),
        ("cell", "VARCHAR", "Cell reference, e.g. E7"),
        ("revision_no", "INTEGER", "Revision of the return"),
        ("valid_from", "TIMESTAMP", "Received time of the return that reported it", False),
        ("valid_to", "TIMESTAMP", "Received time of the revision that replaced it; NULL while current"),
        ("is_current", "BOOLEAN", "True while not superseded"),
    ],
    ("observation_id",),
)

QUARANTINE = table(
    "core",
    "quarantine",
    "Rejected files and values, with a reason code and a message in Chinese and English naming file, sheet and cell.",
    [
        ("quarantine_id", "VARCHAR", "Stable id", False),
        ("file_id", "VARCHAR", "Source file", False),
        ("file_name", "VARCHAR", "File name"),
        ("sheet", "VARCHAR", "Sheet (NULL for file-level problems)"),
        ("cell", "VARCHAR", "Cell (NULL for file- or sheet-level problems)"),
        ("org_code", "VARCHAR", "Unit, if known"),
        ("period_code", "VARCHAR", "Period, if known"),
        ("indicator_code", "VARCHAR", "Indicator, if known"),
        ("raw_text", "VARCHAR", "The offending text"),
        ("scope", "VARCHAR", "file | sheet | row | value", False),
        (
            "reason_code",
            "VARCHAR",
            "Machine-readable reason, e.g. unknown_indicator, out_of_range, corrupt_archive",
            False,
        ),
        ("message_zh", "VARCHAR", "Message in Chinese", False),
        ("message_en", "VARCHAR", "Message in English", False),
        ("detected_at", "TIMESTAMP", "When detected"),
    ],
    ("quarantine_id",),
)
