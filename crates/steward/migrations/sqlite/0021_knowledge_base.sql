-- The knowledge base (issue 17): articles in Markdown, per client or
-- global (client_id NULL: an SOP for every client), in folders, with tags
-- and every version kept. The current text is on the article; each
-- version (the current one included) is in article_versions, so a diff
-- or a restore never needs the article row. Never edit: add a file.
CREATE TABLE articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT REFERENCES clients (id),
    folder TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    -- JSON array of lower-case tags, also in article_tags for filtering.
    tags TEXT NOT NULL DEFAULT '[]',
    version BIGINT NOT NULL,
    archived_at BIGINT,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users (id),
    updated_at BIGINT NOT NULL
);
CREATE INDEX articles_client ON articles (client_id, folder, title);
CREATE INDEX articles_updated ON articles (updated_at);

CREATE TABLE article_versions (
    article_id BIGINT NOT NULL REFERENCES articles (id),
    version BIGINT NOT NULL,
    folder TEXT NOT NULL,
    title TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    tags TEXT NOT NULL,
    -- Why this version exists beyond an edit, e.g. "restored version 2".
    note TEXT NOT NULL DEFAULT '',
    author_id BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (article_id, version)
);

CREATE TABLE article_tags (
    article_id BIGINT NOT NULL REFERENCES articles (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (article_id, tag)
);
CREATE INDEX article_tags_tag ON article_tags (tag, article_id);
