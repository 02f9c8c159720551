-- The same database on PostgreSQL (pg_dump --inserts of its schema, without the schema name,
-- so that it loads into whatever schema the search path names).
CREATE TABLE outbox (
    id integer NOT NULL,
    record_id character varying(32) NOT NULL,
    kind character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    claimed_by character varying(32),
    claimed_until timestamp with time zone,
    last_error character varying(300)
);
CREATE SEQUENCE outbox_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE outbox_id_seq OWNED BY outbox.id;
CREATE TABLE purge_log (
    id integer NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NOT NULL,
    deleted text NOT NULL
);
CREATE SEQUENCE purge_log_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE purge_log_id_seq OWNED BY purge_log.id;
CREATE TABLE records (
    id integer NOT NULL,
    public_id character varying(32) NOT NULL,
    kind character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    policy_version character varying(10) NOT NULL,
    consent_id character varying(32),
    subject character varying(64),
    payload text NOT NULL,
    signature character varying(128) NOT NULL,
    hold boolean DEFAULT false NOT NULL,
    hold_reason text,
    held_at timestamp with time zone
);
CREATE SEQUENCE records_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE records_id_seq OWNED BY records.id;
CREATE TABLE rights_requests (
    id integer NOT NULL,
    reference character varying(64) NOT NULL,
    action character varying(16) NOT NULL,
    requested_at timestamp with time zone NOT NULL,
    counts text NOT NULL
);
CREATE SEQUENCE rights_requests_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE rights_requests_id_seq OWNED BY rights_requests.id;
CREATE TABLE schema_version (
    version integer NOT NULL,
    name character varying(100) NOT NULL,
    applied_at timestamp with time zone NOT NULL
);
CREATE TABLE used_form_tokens (
    token_id character varying(32) NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY outbox ALTER COLUMN id SET DEFAULT nextval('outbox_id_seq'::regclass);
ALTER TABLE ONLY purge_log ALTER COLUMN id SET DEFAULT nextval('purge_log_id_seq'::regclass);
ALTER TABLE ONLY records ALTER COLUMN id SET DEFAULT nextval('records_id_seq'::regclass);
ALTER TABLE ONLY rights_requests ALTER COLUMN id SET DEFAULT nextval('rights_requests_id_seq'::regclass);
INSERT INTO outbox VALUES (1, 'AaIzkvVoHJUY2fIyVDAtFQ', 'contact', '2026-12-01 21:46:38.824711+00', 0, '2026-12-01 21:46:38.824711+00', NULL, NULL, NULL);
INSERT INTO purge_log VALUES (1, '2026-12-01 21:46:38.836767+00', '2026-12-01 21:46:38.841586+00', '{"consent": 0, "contact": 0, "demo": 0}');
INSERT INTO records VALUES (1, 'AaIzkvVjdVaCZ0hu3f1TfA', 'consent', '2026-12-01 21:46:38.819337+00', '2027-12-31 21:46:38.819337+00', '2026-03-24', 'AaIzkvVj8LazFKWNfzyxaA', NULL, '{"action":"accept_all","banner_fingerprint":"0123abcd","choices":{"analytics":true,"necessary":true},"gpc":false,"page":"/"}', 'AwxH_3iWsoU5r2BKdqOpUBaS3nofJ99xLWoGr90I1uk', false, NULL, NULL);
INSERT INTO records VALUES (2, 'AaIzkvVoHJUY2fIyVDAtFQ', 'contact', '2026-12-01 21:46:38.824711+00', '2027-12-01 21:46:38.824711+00', '2026-03-24', NULL, 'b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72', '{"email":"ada@example.com","message":"Hello,\nüñíçødé ✓","name":"Ada Lovelace","organization":null,"topic":"general"}', 'WE55B3_Laz-ce2PZNc4cfHZvzW8P-vw-vkx5rHB9NwY', false, NULL, NULL);
INSERT INTO records VALUES (3, 'AaIzkvVo6--bbyC27PMhPw', 'demo', '2026-12-01 21:46:38.82495+00', '2027-12-01 21:46:38.82495+00', '2026-03-24', NULL, 'b533d4547eaa5a0fa955965a1ca393ccd2ea013032a105726f232eb41bddc4fa', '{"email":"grace@example.com","message":null,"name":"Grace","organization":"Navy","organization_type":"other","phone":"+1 555 123 4567","role":null}', '9fm_ITrzfjPKrsaEQnKx1A2PkrNQtexELMAwirc2Xi0', true, 'contract talks', '2026-12-01 21:46:38.832768+00');
INSERT INTO rights_requests VALUES (1, 'REQ-1', 'export', '2026-12-01 21:46:38.83506+00', '{"contact": 1}');
INSERT INTO rights_requests VALUES (2, 'REQ-2', 'erase', '2026-12-01 21:46:38.835201+00', '{"demo": 0}');
INSERT INTO schema_version VALUES (1, 'create records', '2026-12-01 21:46:38.789328+00');
INSERT INTO schema_version VALUES (2, 'create outbox and used form tokens', '2026-12-01 21:46:38.797071+00');
INSERT INTO schema_version VALUES (3, 'retention: purge log, rights-request log, due index', '2026-12-01 21:46:38.815056+00');
INSERT INTO used_form_tokens VALUES ('AaIzkvVrWD0q578G4ut6Mw', '2026-12-02 01:46:38.827905+00');
SELECT pg_catalog.setval('outbox_id_seq', 1, true);
SELECT pg_catalog.setval('purge_log_id_seq', 1, true);
SELECT pg_catalog.setval('records_id_seq', 3, true);
SELECT pg_catalog.setval('rights_requests_id_seq', 2, true);
ALTER TABLE ONLY outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);
ALTER TABLE ONLY purge_log
    ADD CONSTRAINT purge_log_pkey PRIMARY KEY (id);
ALTER TABLE ONLY records
    ADD CONSTRAINT records_pkey PRIMARY KEY (id);
ALTER TABLE ONLY records
    ADD CONSTRAINT records_public_id_key UNIQUE (public_id);
ALTER TABLE ONLY rights_requests
    ADD CONSTRAINT rights_requests_pkey PRIMARY KEY (id);
ALTER TABLE ONLY schema_version
    ADD CONSTRAINT schema_version_pkey PRIMARY KEY (version);
ALTER TABLE ONLY used_form_tokens
    ADD CONSTRAINT used_form_tokens_pkey PRIMARY KEY (token_id);
CREATE INDEX ix_outbox_next_attempt_at ON outbox USING btree (next_attempt_at);
CREATE INDEX ix_outbox_record_id ON outbox USING btree (record_id);
CREATE INDEX ix_records_consent_id ON records USING btree (consent_id);
CREATE INDEX ix_records_due ON records USING btree (kind, hold, created_at);
CREATE INDEX ix_records_expires_at ON records USING btree (expires_at);
CREATE INDEX ix_records_subject ON records USING btree (subject);
CREATE INDEX ix_rights_requests_reference ON rights_requests USING btree (reference);
CREATE INDEX ix_used_form_tokens_expires_at ON used_form_tokens USING btree (expires_at);
ALTER TABLE ONLY outbox
    ADD CONSTRAINT outbox_record_id_fkey FOREIGN KEY (record_id) REFERENCES records(public_id) ON DELETE CASCADE;
