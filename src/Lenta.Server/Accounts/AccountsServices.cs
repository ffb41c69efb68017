using Lenta.Server.Accounts.OAuth;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Accounts;

public static class AccountsServices
{
    public static IServiceCollection AddLentaAccounts(this IServiceCollection services)
    {
        services.AddSingleton<IMigrationSource, AccountsMigrations>();
        services.AddSingleton<AccountStore>();
        services.AddSingleton<OAuth.AppNames>();
        services.AddSingleton<AccountService>();
        services.AddSingleton<AccountPresenter>();
        services.AddSingleton<SignInThrottle>();
        services.AddLentaOAuth();
        return services;
    }
}
