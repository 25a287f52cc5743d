-- Members move out of rooms' database (see the SQLite twin): the rooms
-- table loses its foreign key to members, and members goes.

ALTER TABLE rooms DROP CONSTRAINT rooms_created_by_fkey;
DROP TABLE members;
