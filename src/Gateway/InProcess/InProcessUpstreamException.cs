using System.Net;

namespace Gateway.InProcess;

/// <summary>An in-process backend refuses a request with an HTTP status and a message.</summary>
internal sealed class InProcessUpstreamException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}
