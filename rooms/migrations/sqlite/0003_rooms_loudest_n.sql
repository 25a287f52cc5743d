-- Loudest-N forwarding is a room setting: how many speakers the room
-- forwards at once, the loudest by audio level. 0 means the server's
-- default (--loudest-n), -1 every speaker.
ALTER TABLE rooms ADD COLUMN loudest_n INTEGER NOT NULL DEFAULT 0;
