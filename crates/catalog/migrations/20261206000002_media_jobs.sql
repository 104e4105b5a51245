-- admin-svc's outbox of media jobs (issue 20): written in the transaction
-- that gives a song its audio (a create, or a PATCH that replaces the
-- audio), sent to the media queue by admin-svc's relay and deleted once
-- SQS has it. At-least-once: the worker treats a job it has seen as done.
CREATE TABLE media_jobs (
    id              bigserial   PRIMARY KEY,
    song_id         uuid        NOT NULL,
    audio_key       text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX media_jobs_due_idx ON media_jobs (next_attempt_at, id);
