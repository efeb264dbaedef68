// Network initialisation, dropout and many tests draw from libtorch's one process-wide generator; tests that
// compare two seeded runs (resume exactness, determinism) would be flaky if another test drew from it in
// between. Run the tests one after another; the suite stays well under a minute.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
