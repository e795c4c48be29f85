import { type Application, ServiceProvider } from 'keel';
import { CatalogService } from '../catalog-service.js';

declare module 'keel/container' {
  interface ContainerBindings {
    catalog: CatalogService;
  }
}

export class CatalogProvider extends ServiceProvider<Application> {
  override register(): void {
    this.app.container.singleton(
      'catalog',
      () =>
        new CatalogService(this.app.events, this.app.config.get('catalog.currency') as string, () =>
          this.app.make('cache').pool('catalog'),
        ),
    );
  }

  /** `keel cache:warm` fills the listing before traffic arrives. */
  override boot(): void {
    this.app.make('cache').warmer({
      name: 'catalog:listing',
      pool: 'catalog',
      description: 'the product listing served by GET /api/catalog/products',
      warm: async () => (await this.app.make('catalog').list()).length,
    });
  }
}
