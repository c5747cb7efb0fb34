"""The Dask batch engine (`tabayyun ingest --engine dask`): the per-document pipeline as Dask tasks
over partitions of the input (`partitions`), run by `tasks` on the workers and gathered by `driver`;
Parquet shards (`shards`) carry the batches to a SQLite workspace."""
