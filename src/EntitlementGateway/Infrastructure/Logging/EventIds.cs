namespace EntitlementGateway.Infrastructure.Logging;

/// <summary>
/// Every log event the gateway writes, one id each, a range per area, so a log query by id finds one kind of line.
/// <c>[LoggerMessage]</c> takes its <c>EventId</c> and <c>EventName</c> from here; a unit test fails on a duplicate id
/// or a missing name.
/// </summary>
public static class EventIds
{
    // 1-999: hosting (start-up, requests, errors)
    public const int EmulatorMode = 10;
    public const int RequestCompleted = 100;
    public const int TelemetryExportOn = 200;
    public const int TelemetryExportOff = 201;
    public const int NativeHeapTrimOff = 300;
    public const int UnhandledException = 500;

    // 1000-1999: the entitlement query and its cache
    public const int BudgetExhausted = 1001;
    public const int UcidRejected = 1002;
    public const int ServedStale = 1003;
    public const int ContinuationLoop = 1004;
    public const int QueryTimedOut = 1005;
    public const int ResultCacheRedisMiss = 1101;

    // 2000-2999: the Store (calls, resilience, tokens, renewals)
    public const int StoreCall = 2001;
    public const int StoreCallFailed = 2002;
    public const int StoreRetry = 2020;
    public const int StoreCircuitOpened = 2021;
    public const int StoreCircuitClosed = 2022;
    public const int StoreConnectionsRenewed = 2023;
    public const int StoreOnHttp11 = 2024;
    public const int StoreCredentialsSuspect = 2030;
    public const int StoreCredentialsCleared = 2031;
    public const int StoreRenew = 2101;
    public const int ServiceTokenFailed = 2102;
    public const int ServiceTokenAtStart = 2103;
    public const int ServiceTokenAtStartFailed = 2104;

    // 3000-3999: the budget and Redis
    public const int BudgetInMemory = 3001;
    public const int BudgetRedisReady = 3002;
    public const int BudgetRedisNotReady = 3003;
    public const int BudgetInMemoryShare = 3004;
    public const int BudgetRedisCredentialsRefused = 3005;
    public const int BudgetRedisUnavailable = 3010;
    public const int BudgetRedisRecovered = 3011;
    public const int BudgetRedisCallFailed = 3101;
    public const int BudgetRedisScriptReloaded = 3102;
    public const int ReplicaHealthRedisFailed = 3201;
    public const int ReplicaHealthRedisRecovered = 3202;
    public const int ReplicaHealthSnapshotUnreadable = 3203;

    // 4000-4999: refunds and chargebacks (Clawback v2)
    public const int ClawbackWorkerStarted = 4001;
    public const int ClawbackSasToken = 4002;
    public const int ClawbackReadFailed = 4003;
    public const int ClawbackQueueRefused = 4004;
    public const int ClawbackDeleteFailed = 4005;
    public const int ClawbackEventHandled = 4010;
    public const int ClawbackMessageMalformed = 4011;
    public const int ClawbackOrdersNotRecorded = 4012;
    public const int ClawbackInMemory = 4013;
    public const int ClawbackWebhookDelivered = 4020;
    public const int ClawbackWebhookFailed = 4021;
    public const int ClawbackWebhookUndeliverable = 4022;
    public const int ClawbackOutboxFailed = 4023;

    // 5000-5999: consumables (consume and its ledger)
    public const int Consumed = 5001;
    public const int ConsumeReplayed = 5002;
    public const int ConsumeRefused = 5003;
    public const int ConsumeUnknownOutcome = 5004;
    public const int ConsumeTakenOver = 5005;
    public const int ConsumeReplayConfirmed = 5006;
    public const int ConsumeNotSent = 5007;
    public const int ConsumeConflictWithItself = 5008;
    public const int ConsumeLedgerFailed = 5010;
    public const int ConsumeListenerFailed = 5011;

    // 6000-6999: security
    public const int GameClientTrusted = 6001;

    // 7000-7999: operator actions (audit)
    public const int OpsBudgetReset = 7001;
    public const int OpsBudgetUnblocked = 7002;
    public const int OpsCacheDropped = 7003;
}
