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
      () => new CatalogService(this.app.events, this.app.config.get('catalog.currency') as string),
    );
  }

  override async boot(): Promise<void> {
    const catalog = this.app.make('catalog');
    await catalog.create({ sku: 'CHAIR-01', name: 'Office chair', price: 12_900 });
    await catalog.create({ sku: 'DESK-01', name: 'Standing desk', price: 49_900 });
  }
}
