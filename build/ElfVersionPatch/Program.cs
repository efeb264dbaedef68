// Usage: ElfVersionPatch LIBRARY VERSION [LIBSTDCXX...]
// Marks VERSION weak in LIBRARY's version needs when none of the given libstdc++ images defines it.
// A no-op (exit 0) when the system library is new enough, the file is absent, or it is already weak.
using Langevin.Build;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: ElfVersionPatch LIBRARY VERSION [LIBSTDCXX...]");
    return 2;
}
string library = args[0], version = args[1];
if (!File.Exists(library)) return 0;

var systemLibs = args.Skip(2).Where(File.Exists).ToList();
if (systemLibs.Any(p => ElfVersionNeeds.DefinesVersion(File.ReadAllBytes(p), version)))
    return 0;

var elf = new ElfVersionNeeds(File.ReadAllBytes(library));
var need = elf.Needs().FirstOrDefault(n => n.Version == version);
if (need is null || need.IsWeak) return 0;

var others = elf.SymbolsUsing(need.Index).Where(s => s != "_ZSt21ios_base_library_initv").ToList();
if (others.Count > 0)
    Console.WriteLine($"warning: {Path.GetFileName(library)}: symbols other than ios_base_library_init use {version}: {string.Join(", ", others)}");

elf.MarkWeak(version);
// Write a new file and rename it over the old: never write through a hard link into the NuGet cache.
string temp = library + ".weak.tmp";
File.WriteAllBytes(temp, elf.Bytes);
File.Move(temp, library, overwrite: true);
Console.WriteLine($"ElfVersionPatch: marked {version} weak in {library} (system libstdc++ lacks it)");
return 0;
