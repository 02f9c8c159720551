-- A database made by the code at commit 51ef696 (schema version 3, before Alembic), with
-- one record of each kind, a hold, a queued notification, a used form token, a purge run and
-- an access and a deletion request (the second added by hand in the same form), signed with the key "upgrade-test-key"; written by sqlite3 .dump.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (version)
);
INSERT INTO schema_version VALUES(1,'create records','2026-12-01 21:46:33.606963');
INSERT INTO schema_version VALUES(2,'create outbox and used form tokens','2026-12-01 21:46:33.609304');
INSERT INTO schema_version VALUES(3,'retention: purge log, rights-request log, due index','2026-12-01 21:46:33.611147');
CREATE TABLE records (
	id INTEGER NOT NULL, 
	public_id VARCHAR(32) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	policy_version VARCHAR(10) NOT NULL, 
	consent_id VARCHAR(32), 
	subject VARCHAR(64), 
	payload TEXT NOT NULL, 
	signature VARCHAR(128) NOT NULL, 
	hold BOOLEAN DEFAULT 0 NOT NULL, 
	hold_reason TEXT, 
	held_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (public_id)
);
INSERT INTO records VALUES(1,'AaIzkuESjjCJuPEmQl0Hiw','consent','2026-12-01 21:46:33.618166','2027-12-31 21:46:33.618166','2026-03-24','AaIzkuES7ByYidqGeuK-RA',NULL,'{"action":"accept_all","banner_fingerprint":"0123abcd","choices":{"analytics":true,"necessary":true},"gpc":false,"page":"/"}','vVmmB11lbQohz3arZzJOzG1iYw38tnlJPt-voeEVZBo',0,NULL,NULL);
INSERT INTO records VALUES(2,'AaIzkuEU_PzLaIcZVzA5Xg','contact','2026-12-01 21:46:33.620223','2027-12-01 21:46:33.620223','2026-03-24',NULL,'b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72','{"email":"ada@example.com","message":"Hello,\nüñíçødé ✓","name":"Ada Lovelace","organization":null,"topic":"general"}','pWvNl2Xp9C1VG1hCduxsygiY1eUQ3429Ha1bC0-G5iE',0,NULL,NULL);
INSERT INTO records VALUES(3,'AaIzkuEU8aAzejNYvx1_ZA','demo','2026-12-01 21:46:33.620415','2027-12-01 21:46:33.620415','2026-03-24',NULL,'b533d4547eaa5a0fa955965a1ca393ccd2ea013032a105726f232eb41bddc4fa','{"email":"grace@example.com","message":null,"name":"Grace","organization":"Navy","organization_type":"other","phone":"+1 555 123 4567","role":null}','_MrQWkFF5fi3S_7le8eOyA9dC0FRTcTmAVWCw-ihLVM',1,'contract talks','2026-12-01 21:46:33.623139');
CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	record_id VARCHAR(32) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	attempts INTEGER DEFAULT 0 NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	claimed_by VARCHAR(32), 
	claimed_until DATETIME, 
	last_error VARCHAR(300), 
	PRIMARY KEY (id), 
	FOREIGN KEY(record_id) REFERENCES records (public_id) ON DELETE CASCADE
);
INSERT INTO outbox VALUES(1,'AaIzkuEU_PzLaIcZVzA5Xg','contact','2026-12-01 21:46:33.620223',0,'2026-12-01 21:46:33.620223',NULL,NULL,NULL);
CREATE TABLE used_form_tokens (
	token_id VARCHAR(32) NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (token_id)
);
INSERT INTO used_form_tokens VALUES('AaIzkuEVn7Iv2gl_RAVu-g','2026-12-02 01:46:33.621555');
CREATE TABLE purge_log (
	id INTEGER NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME NOT NULL, 
	deleted TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO purge_log VALUES(1,'2026-12-01 21:46:33.624893','2026-12-01 21:46:33.627395','{"consent": 0, "contact": 0, "demo": 0}');
CREATE TABLE rights_requests (
	id INTEGER NOT NULL, 
	reference VARCHAR(64) NOT NULL, 
	action VARCHAR(16) NOT NULL, 
	requested_at DATETIME NOT NULL, 
	counts TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO rights_requests VALUES(1,'REQ-1','export','2026-12-01 21:46:33.623929','{"contact": 1}');
INSERT INTO rights_requests VALUES(2,'REQ-2','erase','2026-12-01 21:46:33.624112','{"demo": 0}');
CREATE INDEX ix_records_subject ON records (subject);
CREATE INDEX ix_records_consent_id ON records (consent_id);
CREATE INDEX ix_records_expires_at ON records (expires_at);
CREATE INDEX ix_records_due ON records (kind, hold, created_at);
CREATE INDEX ix_outbox_record_id ON outbox (record_id);
CREATE INDEX ix_outbox_next_attempt_at ON outbox (next_attempt_at);
CREATE INDEX ix_used_form_tokens_expires_at ON used_form_tokens (expires_at);
CREATE INDEX ix_rights_requests_reference ON rights_requests (reference);
COMMIT;
