using System.Globalization;
using Policies.Config;

namespace Policies.Model;

/// <summary>Streaming settings of response policies.</summary>
internal sealed partial class PolicyModelBuilder
{
    private const int MaxWindow = 100_000;
    private const long MaxHeldBytesLimit = 64L << 20;

    // A full window must fit in the hold bound: up to 4 UTF-8 bytes per character, and at least as many per token.
    private const int BytesPerUnit = 4;

    private StreamingSettings BuildStreaming(StreamingConfig? config, TimeSpan timeout, string? file, string path)
    {
        // Unset settings are checked too: the default hold time must still exceed a long timeout.
        config ??= new StreamingConfig();
        var window = config.Window ?? StreamingSettings.DefaultWindow;
        if (window is < 1 or > MaxWindow)
        {
            Add(file, $"{path}.window", window.ToString(CultureInfo.InvariantCulture), $"The window must be between 1 and {MaxWindow}.",
                "Set a window such as 400 (characters) or 100 (tokens).");
            window = StreamingSettings.DefaultWindow;
        }

        var minWindow = config.MinWindow ?? Math.Max(1, window / 4);
        if (minWindow < 1 || minWindow > window)
        {
            Add(file, $"{path}.minWindow", minWindow.ToString(CultureInfo.InvariantCulture), $"The minimum window must be between 1 and the window ({window}).",
                "Lower minWindow, or remove it for a quarter of the window.");
        }

        var holdBack = config.HoldBack ?? window / 4;
        if (holdBack < 0 || holdBack >= window)
        {
            Add(file, $"{path}.holdBack", holdBack.ToString(CultureInfo.InvariantCulture), $"The hold-back must be at least 0 and below the window ({window}).",
                "Lower holdBack, or remove it for a quarter of the window.");
            holdBack = 0;
        }

        // A full window and the text held back before it must fit in the hold bound.
        var held = (long)(window + holdBack) * BytesPerUnit;
        var maxHeldBytes = config.MaxHeldBytes ?? StreamingSettings.DefaultMaxHeldBytes;
        if (maxHeldBytes < held || maxHeldBytes > MaxHeldBytesLimit)
        {
            Add(file, $"{path}.maxHeldBytes", maxHeldBytes.ToString(CultureInfo.InvariantCulture),
                $"The hold bound must fit a full window and its hold-back (({window} + {holdBack}) x {BytesPerUnit} bytes = {held}) and be at most {MaxHeldBytesLimit} bytes.",
                "Raise maxHeldBytes (default 1048576), or lower the window.");
        }

        var maxHoldTime = config.MaxHoldTime ?? StreamingSettings.DefaultMaxHoldTime;
        if (maxHoldTime <= timeout)
        {
            Add(file, $"{path}.maxHoldTime", Durations.Format(maxHoldTime),
                $"The hold time must exceed the guard timeout ({Durations.Format(timeout)}), or every slow check would exceed it.",
                "Raise maxHoldTime above the response timeout, or lower the timeout.");
        }

        return new StreamingSettings
        {
            Mode = config.Mode ?? StreamingMode.Windowed,
            Window = window,
            Unit = config.Unit ?? WindowUnit.Characters,
            CloseAtSentenceEnd = config.CloseAtSentenceEnd ?? true,
            MinWindow = minWindow,
            HoldBack = holdBack,
            MaxHeldBytes = maxHeldBytes,
            MaxHoldTime = maxHoldTime,
        };
    }
}
