"""The DMS settings of the source contract, in one place.

`docs/source_contracts.md` fixes how DMS writes files to the landing bucket, and the loader, the
local CDC stand-in and the simulator all read files of exactly that shape. A drift between what the
stack deploys and what the readers expect would silently corrupt raw (a missing header, a different
NULL token), so the stack and the tests both take the settings from here; the tests also check this
module against the contract text itself.

Names are the DMS API / CloudFormation property names, so the dicts drop straight into the template.
"""

from __future__ import annotations

from foodbank_platform.sources import catalog

# S3 target endpoint (AWS::DMS::Endpoint S3Settings), exactly the contract's list.
S3_TARGET_SETTINGS: dict[str, object] = {
    "DataFormat": "csv",
    "AddColumnName": True,
    "IncludeOpForFullLoad": True,
    "TimestampColumnName": "dms_commit_ts",
    "CsvDelimiter": ",",
    "Rfc4180": True,
    "CsvNullValue": "\\N",
    "DatePartitionEnabled": True,
    "DatePartitionSequence": "YYYYMMDD",
    "DatePartitionDelimiter": "SLASH",
    "CompressionType": "NONE",
}

# Not part of the contract's list but implied by it: UTF-8 rows ending in "\n", date folders on the UTC
# commit date, and "one CDC file per ~60 s per table".
S3_TARGET_FILE_SHAPE: dict[str, object] = {
    "CsvRowDelimiter": "\n",
    "DatePartitionTimezone": "UTC",
    "CdcMaxBatchInterval": 60,
    "CdcMinFileSize": 32000,  # KB: a busy table still rolls a file every 60 s, not per 32 MB
}

CHANGE_SEQ_COLUMN = "dms_change_seq"
CHANGE_SEQ_EXPRESSION = "$AR_H_CHANGE_SEQ"

# The systems DMS replicates: the catalog's DMS tables, grouped by system (schema == system name).
DMS_SYSTEMS: tuple[str, ...] = tuple(dict.fromkeys(t.system for t in catalog.TABLES if t.is_dms))


def dms_tables(system: str) -> list[catalog.SourceTable]:
    return [t for t in catalog.TABLES if t.is_dms and t.system == system]


def table_mappings(system: str) -> dict:
    """Selection rules for exactly the catalog's tables of one system, plus the change-seq column.

    Selecting named tables (not `%`) keeps a new source table out of the landing zone until the
    catalog, the loader and dbt know it.
    """
    rules: list[dict] = []
    for table in dms_tables(system):
        rules.append(
            {
                "rule-type": "selection",
                "rule-id": str(len(rules) + 1),
                "rule-name": f"include-{table.location}-{table.name}",
                "object-locator": {"schema-name": table.location, "table-name": table.name},
                "rule-action": "include",
            }
        )
    rules.append(
        {
            "rule-type": "transformation",
            "rule-id": str(len(rules) + 1),
            "rule-name": "add-dms-change-seq",
            "rule-target": "column",
            "object-locator": {"schema-name": "%", "table-name": "%"},
            "rule-action": "add-column",
            "value": CHANGE_SEQ_COLUMN,
            "expression": CHANGE_SEQ_EXPRESSION,
            "data-type": {"type": "string", "length": 50},
        }
    )
    return {"rules": rules}


def replication_settings() -> dict:
    """Task settings: CloudWatch logging on, and a reload never deletes what is already landed.

    `TargetTablePrepMode=DO_NOTHING`: the default (DROP_AND_CREATE) empties the table's S3 folder on
    a reload, which would delete CDC history the loader may not have read yet.
    """
    return {
        "Logging": {"EnableLogging": True},
        "FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"},
        "ChangeProcessingTuning": {"BatchApplyEnabled": False},
    }
