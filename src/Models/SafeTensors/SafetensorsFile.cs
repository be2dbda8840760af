using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using static TorchSharp.torch;

namespace Peft.Typed.Models.SafeTensors;

/// <summary>
/// A safetensors file opened for reading. The header is validated strictly on open (see docs/safetensors.md);
/// tensor data stays in a read-only memory map, which the OS pages in on demand, and is copied once, straight
/// into each TorchSharp tensor, when that tensor is loaded. Nothing else of the file is read into memory.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private readonly long _dataStart;
    private bool _disposed;

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer, long dataStart,
        IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        FilePath = path;
        _map = map;
        _view = view;
        _base = basePointer;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string FilePath { get; }

    /// <summary>Tensor entries in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public IEnumerable<string> Names => Tensors.Select(t => t.Name);

    public bool Contains(string name) => _byName.ContainsKey(name);

    public SafetensorsTensorInfo Info(string name) =>
        _byName.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{FilePath}: no tensor '{name}'.");

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="SafetensorsFormatException"/> if malformed.</summary>
    public static SafetensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian; big-endian hosts are not supported.");
        // Hugging Face hub caches hold symlinks (snapshots/<rev>/… → blobs/…), possibly chained: measure the final target.
        var link = new FileInfo(path);
        var info = link.LinkTarget is null ? link : link.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? link;
        if (!info.Exists)
            throw new FileNotFoundException(ReferenceEquals(info, link) ? $"safetensors file not found: {path}" : $"safetensors file not found: {path} is a link to the missing {info.FullName}", path);
        long length = info.Length;
        if (length < 8) throw new SafetensorsFormatException(path, null, $"file has {length} bytes, fewer than the 8-byte header size");

        var prefix = new byte[8];
        using (var stream = File.OpenRead(path)) stream.ReadExactly(prefix);
        ulong headerSize = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerSize > SafetensorsHeader.MaxHeaderBytes)
            throw new SafetensorsFormatException(path, null, $"header size {headerSize} exceeds the {SafetensorsHeader.MaxHeaderBytes} byte limit");
        if (8 + (long)headerSize > length)
            throw new SafetensorsFormatException(path, null, $"header size {headerSize} runs past the end of the {length} byte file");

        long dataStart = 8 + (long)headerSize;
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            try
            {
                pointer += view.PointerOffset;
                var header = new ReadOnlySpan<byte>(pointer + 8, checked((int)headerSize));
                var (tensors, metadata) = SafetensorsHeader.Parse(path, header, length - dataStart);
                return new SafetensorsFile(path, map, view, pointer, dataStart, tensors, metadata);
            }
            catch
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                view.Dispose();
                throw;
            }
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>Loads one tensor, optionally converted to <paramref name="dtype"/> and moved to <paramref name="device"/>.</summary>
    public Tensor Load(string name, ScalarType? dtype = null, Device? device = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var info = Info(name);
        var tensor = empty(info.Shape.ToArray(), info.DType.ToScalarType());
        TensorBytes.CopyInto(tensor, _base + _dataStart + info.Begin, info.DType.ByteSize());
        return Convert(tensor, dtype, device);
    }

    /// <summary>Loads every tensor of a file into a dictionary.</summary>
    public static Dictionary<string, Tensor> LoadAll(string path, ScalarType? dtype = null, Device? device = null)
    {
        using var file = Open(path);
        return file.Tensors.ToDictionary(t => t.Name, t => file.Load(t.Name, dtype, device), StringComparer.Ordinal);
    }

    internal static Tensor Convert(Tensor tensor, ScalarType? dtype, Device? device)
    {
        if (dtype is { } type && tensor.dtype != type)
        {
            var converted = tensor.to_type(type);
            tensor.Dispose();
            tensor = converted;
        }
        if (device is not null && device.type != TorchSharp.DeviceType.CPU)
        {
            var moved = tensor.to(device);
            tensor.Dispose();
            tensor = moved;
        }
        return tensor;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
