-- Loudest-N forwarding is a room setting (see the SQLite twin).
ALTER TABLE rooms ADD COLUMN loudest_n INTEGER NOT NULL DEFAULT 0;
