using Gateway.Proxy;
using Gateway.Upstreams;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Proxy;

public sealed class SecretRedactorTests
{
    [Fact]
    public void FromConfiguration_CollectsUpstreamTokens_CredentialKeys_AndTransformHeaderValues()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Upstreams:cf:ApiToken"] = "cf-token-1234",
            ["Guard:Remote:ApiToken"] = "guard-token-5678",
            ["Some:Client:Api-Key"] = "header-key-9012",
            ["ReverseProxy:Routes:r:Transforms:0:RequestHeader"] = "Authorization",
            ["ReverseProxy:Routes:r:Transforms:0:Set"] = "Basic dXNlcjpwYXNz",
            ["ReverseProxy:Routes:r:Transforms:1:RequestHeader"] = "X-Request-Source",
            ["ReverseProxy:Routes:r:Transforms:1:Set"] = "gateway-visible",
            ["Gateway:Models:m:ContextTokens"] = "4096",
        }).Build();
        var redactor = SecretRedactor.FromConfiguration(configuration, [new UpstreamOptions { ApiToken = "options-only-token" }]);

        var text = redactor.Redact("cf-token-1234 guard-token-5678 header-key-9012 Basic dXNlcjpwYXNz dXNlcjpwYXNz options-only-token gateway-visible 4096");

        Assert.Equal("[redacted] [redacted] [redacted] [redacted] [redacted] [redacted] gateway-visible 4096", text);
    }

    [Fact]
    public void Redact_ReplacesTheLongerOfOverlappingSecretsWhole_AndIgnoresTooShortValues()
    {
        var redactor = new SecretRedactor(["abcd", "abcdefgh", "xy", null, "  "]);

        Assert.Equal("[redacted] [redacted] xy", redactor.Redact("abcdefgh abcd xy"));
        Assert.Equal(2, redactor.Count);
    }
}
