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
}
