-- No JIT for this database's sessions: its queries are many and short (a page, an item, a
-- count), and LLVM compiling a count over a GiST bitmap took longer (2 s) than running it.
-- A user who does not own the database cannot change it: then say so and go on.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'not the owner of the database: jit stays as configured';
END
$$;
