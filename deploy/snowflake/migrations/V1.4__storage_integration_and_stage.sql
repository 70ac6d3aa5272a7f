-- Snowflake reads the landing bucket through an IAM role of the CDK stack
-- (output SnowflakeStorageRoleArn), never with keys. After this runs, DESC INTEGRATION s3_landing
-- gives STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID for the role's trust policy
-- (deploy/README.md, step 5). The archive prefix is allowed for retention exports.
CREATE STORAGE INTEGRATION IF NOT EXISTS s3_landing
    TYPE = EXTERNAL_STAGE
    STORAGE_PROVIDER = 'S3'
    ENABLED = TRUE
    STORAGE_AWS_ROLE_ARN = '{{ storage_role_arn }}'
    STORAGE_ALLOWED_LOCATIONS = ('s3://{{ landing_bucket }}/', 's3://{{ archive_bucket }}/warehouse/');
GRANT USAGE ON INTEGRATION s3_landing TO ROLE loader;
USE DATABASE {{ database }};
-- The file format is chosen per COPY (deploy/snowflake/sqlgen.py); the stage only locates files.
CREATE STAGE IF NOT EXISTS raw.landing
    URL = 's3://{{ landing_bucket }}/'
    STORAGE_INTEGRATION = s3_landing
    COMMENT = 'landing zone: dms/<system>/<schema>/<table>/..., sftp/<feed>/...';
CREATE STAGE IF NOT EXISTS audit.archive
    URL = 's3://{{ archive_bucket }}/warehouse/'
    STORAGE_INTEGRATION = s3_landing
    COMMENT = 'rows leaving Snowflake after 3 years, verified before deletion';
GRANT USAGE ON STAGE raw.landing TO ROLE loader;
GRANT USAGE ON STAGE audit.archive TO ROLE loader;
