import { Inject } from '@nestjs/common';
import { Coordinator } from '../../core/coordinator.js';

/** Inject the application's `Coordinator`; the same as a constructor parameter typed `Coordinator`. */
export const InjectCoordinator = (): PropertyDecorator & ParameterDecorator => Inject(Coordinator);
