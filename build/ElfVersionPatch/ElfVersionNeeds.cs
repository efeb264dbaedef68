using System.Buffers.Binary;
using System.Text;

namespace Langevin.Build;

/// <summary>
/// Reads and edits the version needs (<c>.gnu.version_r</c>, SHT_GNU_verneed) of a little-endian ELF64 file.
/// Used to mark <c>GLIBCXX_3.4.32</c> weak in libLibTorchSharp.so so that it loads on libstdc++ older than GCC 13
/// (the one symbol bound to that version, <c>_ZSt21ios_base_library_initv</c>, is never called).
/// Layouts: System V gABI, "Symbol Versioning" (Elf64_Verneed / Elf64_Vernaux).
/// </summary>
public sealed class ElfVersionNeeds
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const uint ShtGnuVersym = 0x6fffffff;
    const uint ShtDynsym = 11;
    public const ushort VerFlagWeak = 0x2;

    readonly byte[] _elf;

    public ElfVersionNeeds(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only little-endian ELF64 is supported");
        _elf = elf;
    }

    public byte[] Bytes => _elf;

    /// <summary>One Vernaux entry: the version name, the file that provides it, its flags and the byte offset of its flags field.</summary>
    public sealed record Need(string File, string Version, ushort Flags, ushort Index, int FlagsOffset)
    {
        public bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    readonly record struct Section(uint Type, ulong Offset, ulong Size, uint Link, ulong EntSize);

    List<Section> Sections()
    {
        ulong shoff = U64(0x28);
        ushort shentsize = U16(0x3A), shnum = U16(0x3C);
        var list = new List<Section>(shnum);
        for (int i = 0; i < shnum; i++)
        {
            int s = Checked(shoff + (ulong)(i * shentsize), 64);
            list.Add(new Section(U32(s + 4), U64(s + 0x18), U64(s + 0x20), U32(s + 0x28), U64(s + 0x38)));
        }
        return list;
    }

    public IReadOnlyList<Need> Needs()
    {
        var sections = Sections();
        var result = new List<Need>();
        foreach (var sec in sections.Where(s => s.Type == ShtGnuVerneed))
        {
            var strtab = sections[(int)sec.Link];
            int vn = Checked(sec.Offset, 16);
            while (true)
            {
                ushort cnt = U16(vn + 2);
                string file = Str(strtab, U32(vn + 4));
                int aux = Checked((ulong)vn + U32(vn + 8), 16);
                for (int a = 0; a < cnt; a++)
                {
                    result.Add(new Need(file, Str(strtab, U32(aux + 8)), U16(aux + 4), U16(aux + 6), aux + 4));
                    uint next = U32(aux + 12);
                    if (next == 0) break;
                    aux = Checked((ulong)aux + next, 16);
                }
                uint vnext = U32(vn + 12);
                if (vnext == 0) break;
                vn = Checked((ulong)vn + vnext, 16);
            }
        }
        return result;
    }

    /// <summary>Names of the dynamic symbols bound to the version with index <paramref name="versionIndex"/>.</summary>
    public IReadOnlyList<string> SymbolsUsing(ushort versionIndex)
    {
        var sections = Sections();
        var dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
        var versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
        if (dynsym.EntSize == 0 || versym.Size == 0) return [];
        var strtab = sections[(int)dynsym.Link];
        int count = (int)(dynsym.Size / dynsym.EntSize);
        var names = new List<string>();
        for (int i = 0; i < count; i++)
        {
            ushort v = (ushort)(U16(Checked(versym.Offset + (ulong)(2 * i), 2)) & 0x7fff);
            if (v != versionIndex) continue;
            int sym = Checked(dynsym.Offset + (ulong)i * dynsym.EntSize, 24);
            names.Add(Str(strtab, U32(sym)));
        }
        return names;
    }

    /// <summary>Sets VER_FLG_WEAK on every need of <paramref name="version"/>; returns how many entries changed.</summary>
    public int MarkWeak(string version)
    {
        int changed = 0;
        foreach (var need in Needs().Where(n => n.Version == version && !n.IsWeak))
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_elf.AsSpan(need.FlagsOffset), (ushort)(need.Flags | VerFlagWeak));
            changed++;
        }
        return changed;
    }

    /// <summary>True when a libstdc++ image defines the version (its name appears as a version definition string).</summary>
    public static bool DefinesVersion(byte[] library, string version)
    {
        var needle = Encoding.ASCII.GetBytes(version + "\0");
        return library.AsSpan().IndexOf(needle) >= 0 && library.AsSpan().IndexOf(Encoding.ASCII.GetBytes("\0" + version + "\0")) >= 0;
    }

    int Checked(ulong offset, int length)
    {
        if (offset + (ulong)length > (ulong)_elf.Length) throw new InvalidDataException("ELF structure points past the end of the file");
        return (int)offset;
    }

    ushort U16(int o) => BinaryPrimitives.ReadUInt16LittleEndian(_elf.AsSpan(Checked((ulong)o, 2)));
    uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(_elf.AsSpan(Checked((ulong)o, 4)));
    ulong U64(int o) => BinaryPrimitives.ReadUInt64LittleEndian(_elf.AsSpan(Checked((ulong)o, 8)));

    string Str(Section strtab, uint index)
    {
        int start = Checked(strtab.Offset + index, 1);
        int end = Array.IndexOf(_elf, (byte)0, start);
        if (end < 0) throw new InvalidDataException("unterminated ELF string");
        return Encoding.ASCII.GetString(_elf, start, end - start);
    }
}
