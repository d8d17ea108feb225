using System.Net;
using System.Net.Http.Headers;
using Guard.Engines;

namespace Guard.Tests.Engines;

public sealed class RemoteGuardResilienceTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(2);

    [Fact]
    public void RetryAfter_Seconds_IsUsed()
    {
        using var response = Response(new RetryConditionHeaderValue(TimeSpan.FromSeconds(1)));
        Assert.Equal(TimeSpan.FromSeconds(1), RemoteGuardResilience.RetryAfter(response, Max, new FixedTime(Now)));
    }

    [Fact]
    public void RetryAfter_Date_IsMeasuredFromTheInjectedClock()
    {
        using var response = Response(new RetryConditionHeaderValue(Now.AddMilliseconds(1500)));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), RemoteGuardResilience.RetryAfter(response, Max, new FixedTime(Now)));
    }

    [Fact]
    public void RetryAfter_LongerThanTheMaximum_IsCapped()
    {
        using var response = Response(new RetryConditionHeaderValue(TimeSpan.FromMinutes(5)));
        Assert.Equal(Max, RemoteGuardResilience.RetryAfter(response, Max, new FixedTime(Now)));
    }

    [Fact]
    public void RetryAfter_AbsentOrInThePast_LeavesTheBackoffToDecide()
    {
        using var none = Response(null);
        using var past = Response(new RetryConditionHeaderValue(Now.AddSeconds(-10)));
        Assert.Null(RemoteGuardResilience.RetryAfter(none, Max, new FixedTime(Now)));
        Assert.Null(RemoteGuardResilience.RetryAfter(past, Max, new FixedTime(Now)));
        Assert.Null(RemoteGuardResilience.RetryAfter(null, Max, new FixedTime(Now)));
    }

    private static HttpResponseMessage Response(RetryConditionHeaderValue? retryAfter)
    {
        var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = retryAfter;
        return response;
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
