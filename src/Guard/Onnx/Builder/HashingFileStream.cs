using System.Security.Cryptography;
using Guard.Onnx.Models;

namespace Guard.Onnx.Builder;

/// <summary>
/// A new file written front to back that hashes its bytes as they are written, so the builder records each file's
/// SHA-256 without reading gigabytes back (<see cref="ModelDigest"/>). It cannot seek.
/// </summary>
internal sealed class HashingFileStream : Stream
{
    private const int BufferSize = 1 << 20;

    private readonly string _path;
    private readonly FileStream _file;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _length;
    private bool _completed;

    /// <summary>Creates (or replaces) the file.</summary>
    /// <param name="path">The file.</param>
    public HashingFileStream(string path)
    {
        _path = path;
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_completed;

    /// <summary>The bytes written so far.</summary>
    public override long Length => _length;

    /// <summary>The bytes written so far (the offset of the next byte); cannot be set.</summary>
    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException("A hashing file stream is written front to back.");
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _file.Write(buffer);
        _hash.AppendData(buffer);
        _length += buffer.Length;
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() => _file.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A hashing file stream is written front to back.");

    public override void SetLength(long value) => throw new NotSupportedException("A hashing file stream is written front to back.");

    /// <summary>Closes the file and returns its digest, after checking that the file on disk has every byte hashed.</summary>
    /// <param name="name">The file's name in the model directory.</param>
    /// <exception cref="IOException">The file on disk does not have the length written.</exception>
    public ModelFileDigest Complete(string name)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _file.Flush(flushToDisk: false);
        _file.Dispose();
        _completed = true;
        var onDisk = new FileInfo(_path).Length;
        if (onDisk != _length)
        {
            throw new IOException($"{_path}: {_length} bytes were written but the file has {onDisk}; another process may be writing it.");
        }

        return new ModelFileDigest { Name = name, Length = _length, Sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset()) };
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _completed = true;
            _file.Dispose();
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
