using System.Security.Cryptography;
using System.Text;
using Gateway.Auth;

namespace Gateway.Tests.Auth;

public sealed class ApiKeyAuthenticatorTests
{
    private const string Key = "gw-key-5b1e";

    private static readonly ApiKeyAuthenticator Authenticator = new(new AuthOptions
    {
        Mode = AuthMode.ApiKeys,
        Keys = [new ApiKeyOptions { Sha256 = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Key))).ToLowerInvariant(), Tenant = "t1", Name = "app" }],
    });

    [Theory]
    [InlineData("Bearer " + Key, true)]
    [InlineData("bearer " + Key, true)]
    [InlineData("BEARER   " + Key + "  ", true)]
    [InlineData(Key, false)]
    [InlineData("Basic " + Key, false)]
    [InlineData("Bearer", false)]
    [InlineData("Bearer ", false)]
    [InlineData("Bearer  ", false)]
    [InlineData("Bearer " + Key + "x", false)]
    [InlineData("Bearer x" + Key, false)]
    [InlineData("Bearer gw-key-5B1E", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Authenticate_AcceptsOnlyTheConfiguredKeyAsABearerToken(string? header, bool accepted)
    {
        var caller = Authenticator.Authenticate(header);

        Assert.Equal(accepted, caller is not null);
        if (accepted)
        {
            Assert.Equal(new CallerIdentity("t1", "app"), caller);
        }
    }

    [Fact]
    public void Authenticate_AVeryLongToken_IsRefusedWithoutHashing()
    {
        Assert.Null(Authenticator.Authenticate("Bearer " + new string('k', 100_000)));
    }

    [Theory]
    [InlineData("ApiKeys", null, null, "Auth:Keys is empty")]
    [InlineData("ApiKeys", "abc", "t", "Auth:Keys:0:Sha256 must be the 64 hexadecimal digits")]
    [InlineData("ApiKeys", "zz00000000000000000000000000000000000000000000000000000000000000", "t", "Auth:Keys:0:Sha256 must be the 64 hexadecimal digits")]
    [InlineData("ApiKeys", "0000000000000000000000000000000000000000000000000000000000000000", " ", "Auth:Keys:0:Tenant must name the tenant")]
    [InlineData("None", "abc", "t", "Auth:Keys:0:Sha256 must be the 64 hexadecimal digits")]
    public void Validate_NamesThePathTheValueAndTheFix(string mode, string? hash, string? tenant, string expected)
    {
        var options = new AuthOptions { Mode = Enum.Parse<AuthMode>(mode) };
        if (hash is not null)
        {
            options.Keys.Add(new ApiKeyOptions { Sha256 = hash, Tenant = tenant });
        }

        Assert.Contains(options.Validate(), e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ARepeatedKey_IsAnError()
    {
        var hash = new string('a', 64);
        var options = new AuthOptions
        {
            Mode = AuthMode.ApiKeys,
            Keys = [new ApiKeyOptions { Sha256 = hash, Tenant = "t1" }, new ApiKeyOptions { Sha256 = hash.ToUpperInvariant(), Tenant = "t2" }],
        };

        Assert.Equal(["Auth:Keys:1:Sha256 repeats Auth:Keys:0:Sha256: each key appears once."], options.Validate());
    }
}
