-- A person's call history across their DMs (GET /calls without a
-- conversation): their calls as caller and as callee, each newest first by
-- id, merged by the query. The partial indexes on live callers and callees
-- answer "is this user busy?" only; these hold every call.
CREATE INDEX call_sessions_caller ON call_sessions (caller_id, id);
CREATE INDEX call_sessions_callee ON call_sessions (callee_id, id);
