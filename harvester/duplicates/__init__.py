"""Finding the same work across sources: identifiers and fingerprints extracted from each
harvested payload (sans-I/O: `keys_for` reads a payload, the store indexes what it returns),
and the similarity test the store applies to fingerprint candidates (`judge`), both in
`harvester.duplicates.keys`. Nothing is imported here: idutils compiles its patterns at import
(about 0.5 s), which a harvest that does not match should not pay."""
