using System.Globalization;

namespace Policies.Config;

/// <summary>Durations as written in policy files: <c>250ms</c>, <c>2s</c>, <c>1.5s</c>, <c>1m</c>, or <c>hh:mm:ss</c>.</summary>
public static class Durations
{
    /// <summary>Parses a duration; a bare number is refused because its unit would be a guess.</summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The duration, when parsed.</param>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        if (s.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParseExact(s, "c", CultureInfo.InvariantCulture, out value);
        }

        (string unit, double scale)[] units = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];
        foreach (var (unit, scale) in units)
        {
            if (s.EndsWith(unit, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(s.AsSpan(0, s.Length - unit.Length), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)
                && double.IsFinite(n) && n * scale < TimeSpan.MaxValue.TotalMilliseconds)
            {
                value = TimeSpan.FromMilliseconds(n * scale);
                return true;
            }
        }

        return false;
    }

    /// <summary>Writes a duration the way it would be written in a file: <c>250ms</c>, <c>2s</c>, <c>1.5s</c>.</summary>
    public static string Format(TimeSpan value) => value.TotalMilliseconds < 1000
        ? value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms"
        : value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
}
