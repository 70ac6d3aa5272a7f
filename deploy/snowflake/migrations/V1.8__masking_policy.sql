-- Donor contact details (intake.donors.contact_email, .phone) are personal data: everyone sees them
-- masked except sessions holding PII_READER (donor relations). The policy is on the raw columns, so
-- every view and model built on them inherits it; a model that materialises the column stores the
-- masked value, which is the point. Requires Snowflake Enterprise edition.
USE DATABASE {{ database }};
CREATE MASKING POLICY IF NOT EXISTS audit.donor_contact_mask AS (val VARCHAR) RETURNS VARCHAR ->
    CASE
        WHEN val IS NULL THEN NULL
        WHEN IS_ROLE_IN_SESSION('PII_READER') THEN val
        ELSE '*** masked ***'
    END
    COMMENT = 'donor email/phone: visible to PII_READER only';
ALTER TABLE raw.intake__donors MODIFY COLUMN contact_email SET MASKING POLICY audit.donor_contact_mask;
ALTER TABLE raw.intake__donors MODIFY COLUMN phone SET MASKING POLICY audit.donor_contact_mask;
