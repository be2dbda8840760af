using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Makes a 64-bit little-endian ELF shared library load on a libstdc++ without GLIBCXX_3.4.32:
/// marks that version requirement weak (VER_FLG_WEAK in .gnu.version_r) and gives
/// _ZSt21ios_base_library_initv the global version (what `patchelf --clear-symbol-version` does).
/// Idempotent: patching a patched file changes nothing.
/// </summary>
public sealed class PeftTypedPatchGlibcxx : Task
{
    private const string Version = "GLIBCXX_3.4.32";
    private const string Symbol = "_ZSt21ios_base_library_initv";
    private const uint ShtDynsym = 11, ShtVerneed = 0x6ffffffe, ShtVersym = 0x6fffffff;
    private const ushort VerFlagWeak = 2, VerIndexGlobal = 1;

    [Required] public string Source { get; set; } = "";
    [Required] public string Destination { get; set; } = "";

    public override bool Execute()
    {
        try
        {
            var elf = File.ReadAllBytes(Source);
            int changes = Patch(elf);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(Destination))!);
            string tmp = Destination + ".tmp";
            File.WriteAllBytes(tmp, elf);
            if (File.Exists(Destination)) File.Delete(Destination);
            File.Move(tmp, Destination);
            Log.LogMessage(MessageImportance.Normal, $"Patched {Source} -> {Destination} ({changes} change(s)) for libstdc++ without {Version}.");
            return true;
        }
        catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
        {
            Log.LogError($"Cannot patch '{Source}' for libstdc++ without {Version}: {e.Message}");
            return false;
        }
    }

    private static int Patch(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        long shoff = (long)U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
        int changes = 0;
        int verIndex = -1;

        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (U32(elf, sh + 4) != ShtVerneed) continue;
            long off = (long)U64(elf, sh + 0x18);
            long strtab = SectionOffset(elf, shoff, shentsize, (int)U32(elf, sh + 0x28));
            long vn = off;
            while (true)
            {
                int count = U16(elf, vn + 2);
                long aux = vn + U32(elf, vn + 8);
                for (int a = 0; a < count; a++)
                {
                    if (CString(elf, strtab + U32(elf, aux + 8)) == Version)
                    {
                        ushort flags = (ushort)U16(elf, aux + 4);
                        verIndex = U16(elf, aux + 6) & 0x7fff;
                        if ((flags & VerFlagWeak) == 0) { W16(elf, aux + 4, (ushort)(flags | VerFlagWeak)); changes++; }
                    }
                    aux += U32(elf, aux + 12);
                }
                uint next = U32(elf, vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }

        long versym = -1, dynsym = -1, dynsymSize = 0, dynstr = -1;
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            uint type = U32(elf, sh + 4);
            if (type == ShtVersym) versym = (long)U64(elf, sh + 0x18);
            if (type == ShtDynsym)
            {
                dynsym = (long)U64(elf, sh + 0x18);
                dynsymSize = (long)U64(elf, sh + 0x20);
                dynstr = SectionOffset(elf, shoff, shentsize, (int)U32(elf, sh + 0x28));
            }
        }
        if (versym >= 0 && dynsym >= 0)
        {
            for (long i = 0; i < dynsymSize / 24; i++)
            {
                if (CString(elf, dynstr + U32(elf, dynsym + i * 24)) != Symbol) continue;
                int v = U16(elf, versym + i * 2) & 0x7fff;
                if (v != VerIndexGlobal && (verIndex < 0 || v == verIndex)) { W16(elf, versym + i * 2, VerIndexGlobal); changes++; }
            }
        }
        return changes;
    }

    private static long SectionOffset(byte[] elf, long shoff, int shentsize, int index) => (long)U64(elf, shoff + (long)index * shentsize + 0x18);
    private static int U16(byte[] b, long o) => b[o] | (b[o + 1] << 8);
    private static uint U32(byte[] b, long o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));
    private static ulong U64(byte[] b, long o) => U32(b, o) | ((ulong)U32(b, o + 4) << 32);
    private static void W16(byte[] b, long o, ushort v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }
    private static string CString(byte[] b, long o)
    {
        long end = o;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
    }
}
