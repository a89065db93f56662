"""Finding the same work across sources: identifiers and fingerprints extracted from each
harvested payload (sans-I/O: `keys_for` in `harvester.duplicates.keys` reads a payload, the
store indexes what it returns), and the similarity test the store applies to fingerprint
candidates (`judge`, in `harvester.duplicates.fingerprint`). Nothing is imported here:
idutils compiles its patterns at import (about 0.5 s), which a harvest that does not match
should not pay."""
