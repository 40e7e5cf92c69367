from django.db import migrations


class Migration(migrations.Migration):
    """Keep vectors in the heap row, not TOAST.

    A 768-d vector is ~3 KB, above the 2 KB TOAST threshold, so by default every candidate the
    HNSW scan returns costs an extra TOAST lookup to recompute its distance. PLAIN storage fits
    up to 2,000 dimensions in a page, the same ceiling as the HNSW index (and our check).
    """

    dependencies = [("retrieval", "0002_embeddings_and_search")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE retrieval_assetembedding ALTER COLUMN vector SET STORAGE PLAIN",
            "ALTER TABLE retrieval_assetembedding ALTER COLUMN vector SET STORAGE EXTERNAL",
        )
    ]
