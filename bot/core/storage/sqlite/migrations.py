"""Numbered schema migrations of the ticket database; applied in order, each recorded in schema_migrations.

Never edit a migration that has shipped: add the next number.
"""

from __future__ import annotations

from bot.core.storage.migrating import Migration

MIGRATIONS: list[Migration] = [
    (
        1,
        "tickets, events, staff, reminders, outbox, drafts, questions",
        [
            "CREATE TABLE ticket_counters (day TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID",
            """CREATE TABLE tickets (
                id INTEGER PRIMARY KEY,
                number TEXT NOT NULL UNIQUE,
                day TEXT NOT NULL,
                seq INTEGER NOT NULL,
                citizen_id TEXT NOT NULL,
                description TEXT NOT NULL,
                category TEXT NOT NULL,
                department TEXT NOT NULL,
                place TEXT,
                phone TEXT,
                anonymous INTEGER NOT NULL DEFAULT 0,
                priority TEXT NOT NULL DEFAULT 'normal',
                policy TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('待受理','办理中','已办结','已关闭')),
                handler TEXT,
                source_question TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                contact_due INTEGER, contact_met INTEGER,
                feedback_due INTEGER, feedback_met INTEGER,
                resolve_due INTEGER, resolve_met INTEGER,
                round INTEGER NOT NULL DEFAULT 0,
                round_started_at INTEGER NOT NULL,
                resolution TEXT,
                closed_at INTEGER,
                rating INTEGER CHECK (rating BETWEEN 1 AND 5),
                comment TEXT,
                rated_at INTEGER,
                rated_round INTEGER,
                rating_due INTEGER,
                next_due_at INTEGER,
                version INTEGER NOT NULL DEFAULT 0,
                UNIQUE (day, seq)
            )""",
            "CREATE INDEX tickets_next_due ON tickets(next_due_at) WHERE next_due_at IS NOT NULL",
            "CREATE INDEX tickets_created ON tickets(created_at, department)",
            "CREATE INDEX tickets_resolved ON tickets(resolve_met, department) WHERE resolve_met IS NOT NULL",
            "CREATE INDEX tickets_state ON tickets(state, department)",
            "CREATE INDEX tickets_citizen ON tickets(citizen_id, id)",
            "CREATE INDEX tickets_handler ON tickets(handler, state) WHERE handler IS NOT NULL",
            "CREATE INDEX tickets_seq ON tickets(seq)",
            "CREATE INDEX tickets_contact_due ON tickets(contact_due, department, contact_met)",
            "CREATE INDEX tickets_feedback_due ON tickets(feedback_due, department, feedback_met)",
            "CREATE INDEX tickets_resolve_due ON tickets(resolve_due, department, resolve_met)",
            "CREATE INDEX tickets_rated ON tickets(rated_at, department, rating) WHERE rated_at IS NOT NULL",
            """CREATE TABLE ticket_events (
                id INTEGER PRIMARY KEY,
                ticket_id INTEGER NOT NULL REFERENCES tickets(id),
                at INTEGER NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                text TEXT NOT NULL DEFAULT ''
            )""",
            "CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id)",
            """CREATE TABLE staff (
                user_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('admin','supervisor','handler')),
                departments TEXT NOT NULL DEFAULT '[]',
                updated_at INTEGER NOT NULL
            )""",
            """CREATE TABLE staff_log (
                id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                user_id TEXT NOT NULL, text TEXT NOT NULL DEFAULT ''
            )""",
            """CREATE TABLE reminders_sent (
                ticket_id INTEGER NOT NULL REFERENCES tickets(id),
                milestone TEXT NOT NULL,
                level TEXT NOT NULL,
                round INTEGER NOT NULL,
                repeat INTEGER NOT NULL,
                sent_at INTEGER NOT NULL,
                PRIMARY KEY (ticket_id, milestone, level, round, repeat)
            ) WITHOUT ROWID""",
            """CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                recipient_kind TEXT NOT NULL,
                recipient_id TEXT NOT NULL,
                html TEXT NOT NULL,
                buttons TEXT NOT NULL DEFAULT '[]',
                dedup_key TEXT UNIQUE,
                created_at INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL DEFAULT 0,
                sent_at INTEGER,
                last_error TEXT
            )""",
            "CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE sent_at IS NULL",
            "CREATE TABLE drafts (user_id TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at INTEGER NOT NULL)",
            """CREATE TABLE questions (
                id INTEGER PRIMARY KEY,
                user_id TEXT NOT NULL,
                text TEXT NOT NULL,
                intent TEXT NOT NULL,
                target TEXT,
                answered INTEGER NOT NULL,
                at INTEGER NOT NULL
            )""",
            "CREATE INDEX questions_at ON questions(at)",
        ],
    ),
    (
        2,
        "outbox: parked notifications and per-chat delivery progress",
        [
            # set when a notification failed permanently: no more automatic attempts until re-queued
            "ALTER TABLE outbox ADD COLUMN parked_at INTEGER",
            # chats already reached by a notification meant for several (a department with two groups)
            "ALTER TABLE outbox ADD COLUMN delivered TEXT NOT NULL DEFAULT '[]'",
        ],
    ),
    (
        3,
        "meta: small facts about the database, e.g. the working calendar its deadlines were computed with",
        [
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)"
            " WITHOUT ROWID",
        ],
    ),
    (
        4,
        "outbox: claimed by one sender at a time",
        [
            # who is sending the notification now, and until when the claim holds (then anyone may take it)
            "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
            "ALTER TABLE outbox ADD COLUMN claimed_until INTEGER",
        ],
    ),
    (
        5,
        "tickets_open: the open tickets with everything the digest's overdue and warning lists test",
        [
            # partial (open tickets only, a few percent of the table) and covering for reports.attention():
            # counting and choosing the red and yellow tickets reads this index alone, never the wide rows
            "CREATE INDEX tickets_open ON tickets(department, state, policy, created_at, round_started_at,"
            " contact_due, contact_met, feedback_due, feedback_met, resolve_due, resolve_met)"
            " WHERE state IN ('待受理','办理中')",
        ],
    ),
    (
        6,
        "the 接诉即办 loop: types, tiers and dispatch, pauses, extensions, merges, co-departments, 回访, requests,"
        " reply templates, outbox attachments",
        [
            "ALTER TABLE tickets ADD COLUMN appeal_type TEXT",
            "ALTER TABLE tickets ADD COLUMN tier TEXT",
            "ALTER TABLE tickets ADD COLUMN dispatch_due INTEGER",
            "ALTER TABLE tickets ADD COLUMN dispatch_met INTEGER",
            "ALTER TABLE tickets ADD COLUMN paused_at INTEGER",
            "ALTER TABLE tickets ADD COLUMN pause_reason TEXT",
            "ALTER TABLE tickets ADD COLUMN paused_work INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE tickets ADD COLUMN paused_wall INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE tickets ADD COLUMN extra_days INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE tickets ADD COLUMN merged_into TEXT",
            "ALTER TABLE tickets ADD COLUMN co_departments TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE tickets ADD COLUMN citizen_name TEXT",
            "ALTER TABLE tickets ADD COLUMN visit_result INTEGER",
            "ALTER TABLE tickets ADD COLUMN visited_at INTEGER",
            "ALTER TABLE tickets ADD COLUMN rating_excluded INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE tickets ADD COLUMN hot_key TEXT",
            # tickets filed before: a 24-hour dispatch (签收) window, signed when somebody worked on them
            "UPDATE tickets SET dispatch_due = created_at + 86400",
            "UPDATE tickets SET dispatch_met = COALESCE(contact_met, feedback_met, resolve_met, updated_at)"
            " WHERE handler IS NOT NULL OR state <> '待受理'",
            "CREATE INDEX tickets_dispatch_due ON tickets(dispatch_due, department, dispatch_met)",
            # duplicates at intake: a department's recent open tickets, newest first
            "CREATE INDEX tickets_department_recent ON tickets(department, created_at)",
            "CREATE INDEX tickets_merged ON tickets(merged_into) WHERE merged_into IS NOT NULL",
            # hot spots: the keys of the tickets created in a window
            "CREATE INDEX tickets_hot ON tickets(created_at, hot_key)",
            """CREATE TABLE ticket_requests (
                id INTEGER PRIMARY KEY,
                ticket_id INTEGER NOT NULL REFERENCES tickets(id),
                number TEXT NOT NULL,
                kind TEXT NOT NULL,
                department TEXT NOT NULL,
                requested_by TEXT NOT NULL,
                requested_at INTEGER NOT NULL,
                target TEXT,
                reason TEXT NOT NULL DEFAULT '',
                state TEXT NOT NULL DEFAULT 'pending',
                due_at INTEGER,
                decided_by TEXT,
                decided_at INTEGER,
                decision TEXT
            )""",
            "CREATE INDEX ticket_requests_open ON ticket_requests(state, kind, id)",
            "CREATE INDEX ticket_requests_ticket ON ticket_requests(ticket_id, id)",
            "CREATE INDEX ticket_requests_at ON ticket_requests(requested_at, department)",
            """CREATE TABLE reply_templates (
                department TEXT NOT NULL,
                name TEXT NOT NULL,
                text TEXT NOT NULL,
                updated_by TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (department, name)
            ) WITHOUT ROWID""",
            # a chart sent as a photo (its text the caption): the image, and what it is (JSON)
            "ALTER TABLE outbox ADD COLUMN attachment BLOB",
            "ALTER TABLE outbox ADD COLUMN attachment_meta TEXT",
        ],
    ),
    (
        7,
        "attachments: photos and files of tickets; map pins (coordinates, 属地 unit); media of notifications",
        [
            # a reference to a file the channel keeps (the file itself only under MEDIA_STORE_DIR: path)
            """CREATE TABLE attachments (
                id INTEGER PRIMARY KEY,
                ticket_id INTEGER NOT NULL REFERENCES tickets(id),
                role TEXT NOT NULL CHECK (role IN ('citizen','staff')),
                sender TEXT NOT NULL,
                kind TEXT NOT NULL,
                file_id TEXT NOT NULL,
                unique_id TEXT NOT NULL,
                size INTEGER,
                caption TEXT NOT NULL DEFAULT '',
                mime TEXT,
                file_name TEXT,
                album TEXT,
                path TEXT,
                -- local copies (MEDIA_STORE_DIR) that failed are tried again later (bot/core/tickets/copies.py)
                copy_attempts INTEGER NOT NULL DEFAULT 0,
                copy_tried INTEGER,
                at INTEGER NOT NULL
            )""",
            "CREATE INDEX attachments_ticket ON attachments(ticket_id, id)",
            "CREATE INDEX attachments_uncopied ON attachments(id) WHERE path IS NULL",
            # photos sent with a notification (the new-ticket post carries the citizen's album)
            "ALTER TABLE outbox ADD COLUMN media TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE tickets ADD COLUMN latitude REAL",
            "ALTER TABLE tickets ADD COLUMN longitude REAL",
            "ALTER TABLE tickets ADD COLUMN unit TEXT",
        ],
    ),
    (
        8,
        "routing: labelled examples from staff transfers and changes, and the models learned from them",
        [
            """CREATE TABLE routing_examples (
                id INTEGER PRIMARY KEY,
                ticket_id INTEGER,
                text TEXT NOT NULL,
                unit TEXT NOT NULL,
                category TEXT,
                previous TEXT,
                kind TEXT NOT NULL,
                actor TEXT NOT NULL,
                at INTEGER NOT NULL
            )""",
            """CREATE TABLE routing_models (
                id INTEGER PRIMARY KEY,
                created_at INTEGER NOT NULL,
                examples INTEGER NOT NULL,
                last_example INTEGER NOT NULL,
                held_back INTEGER NOT NULL,
                score REAL NOT NULL,
                baseline REAL NOT NULL,
                active INTEGER NOT NULL,
                data BLOB NOT NULL
            )""",
            "CREATE INDEX routing_models_active ON routing_models(active, id)",
        ],
    ),
    (
        9,
        "many processes: update ids already seen, leases, conversation state by age",
        [
            # an update id taken by some process: a redelivery, or the same update given to another, is dropped
            "CREATE TABLE seen_updates (update_id INTEGER PRIMARY KEY, seen_at INTEGER NOT NULL)",
            "CREATE INDEX seen_updates_at ON seen_updates(seen_at)",
            # work only one process may do at a time (the reminder tick, a day's digest): who, and until when
            "CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL)"
            " WITHOUT ROWID",
            # the periodic purge of expired dialogue contexts finds them by age
            "CREATE INDEX drafts_updated ON drafts(updated_at)",
        ],
    ),
    (
        10,
        "knowledge loop: real gaps in the question log, and the learned overlay",
        [
            # nomatch | near | clarify for a question the knowledge base had no answer to; NULL otherwise
            "ALTER TABLE questions ADD COLUMN gap TEXT",
            "CREATE INDEX questions_gap ON questions(at) WHERE gap IS NOT NULL",
            "CREATE INDEX questions_user ON questions(user_id, at)",
            """CREATE TABLE learned (
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('alias','faq')),
                entry_id TEXT,
                phrase TEXT NOT NULL,
                answer TEXT,
                department TEXT,
                question TEXT NOT NULL,
                source TEXT NOT NULL,
                taught_by TEXT NOT NULL,
                taught_by_name TEXT NOT NULL DEFAULT '',
                taught_at INTEGER NOT NULL,
                expires_at INTEGER,
                undone_by TEXT,
                undone_at INTEGER
            )""",
        ],
    ),
    (
        11,
        "惠企政策: enterprise profiles (with consent and subscription) and the questions asked about policies",
        [
            # one saved profile per person, only with their consent; `notified` holds the fingerprint of every
            # policy they were already told about (policy id -> fingerprint), so a push tells only what is new
            """CREATE TABLE enterprise_profiles (
                user_id TEXT PRIMARY KEY,
                profile TEXT NOT NULL,
                consented_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                subscribed INTEGER NOT NULL DEFAULT 0,
                notified TEXT NOT NULL DEFAULT '{}'
            ) WITHOUT ROWID""",
            "CREATE INDEX enterprise_profiles_subscribed ON enterprise_profiles(user_id) WHERE subscribed = 1",
            # what was asked: the policies a question was about (shown as 符合 or asked by name), or none
            """CREATE TABLE policy_questions (
                id INTEGER PRIMARY KEY,
                at INTEGER NOT NULL,
                text TEXT NOT NULL,
                policies TEXT NOT NULL DEFAULT '[]',
                answered INTEGER NOT NULL
            )""",
            "CREATE INDEX policy_questions_at ON policy_questions(at)",
        ],
    ),
    (
        12,
        "outbox: the moment a notification was handed to the channel, until it is known sent or failed",
        [
            # set just before a send and cleared by sent/failed: a row with it set and no sent_at was being
            # sent when the process stopped, and Telegram may or may not have delivered it
            "ALTER TABLE outbox ADD COLUMN sending_at INTEGER",
        ],
    ),
]
