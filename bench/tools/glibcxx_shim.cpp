// An empty std::ios_base_library_init(), exported under the symbol version GLIBCXX_3.4.32.
//
// GCC 13 makes every object that includes <iostream> call this hook; libstdc++ 13 defines it
// (as a no-op: the real stream set-up still runs from libstdc++'s own initialiser). Debian 12's
// libstdc++ 12 predates it, so TorchSharp's libLibTorchSharp.so (built with GCC 13) cannot
// load. bench/run.sh compiles this file with glibcxx_shim.map, marks the library's
// requirement of GLIBCXX_3.4.32 weak (weaken_glibcxx.py) and LD_PRELOADs the result, only
// when the system's libstdc++ lacks that version.
namespace std
{
    void ios_base_library_init() {}
}
